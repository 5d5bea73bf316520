import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const hostZone = '/usr/share/zoneinfo/Europe/Berlin';

describe('org.osbuild.timezone', () => {
  let root: TestRoot;
  let buildRoot: string;
  beforeEach(() => {
    root = testRoot();
    buildRoot = join(root.dir, 'buildroot');
    mkdirSync(buildRoot);
  });
  afterEach(() => root.cleanup());

  /** A fake zone file (real TZif magic) in `base`'s zoneinfo. */
  function zone(base: string, name: string, content = 'TZif2\0\0\0') {
    const file = join(base, 'usr/share/zoneinfo', name);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, content);
  }

  it('links /etc/localtime to the zone of the tree and writes /etc/timezone', () => {
    zone(root.tree, 'Europe/Berlin');
    mkdirSync(join(root.tree, 'etc'));
    symlinkSync('/usr/share/zoneinfo/Etc/UTC', join(root.tree, 'etc/localtime'));
    main(root.args({ zone: 'Europe/Berlin' }), buildRoot);
    assert.equal(readlinkSync(join(root.tree, 'etc/localtime')), '../usr/share/zoneinfo/Europe/Berlin');
    assert.equal(readFileSync(join(root.tree, 'etc/timezone'), 'utf8'), 'Europe/Berlin\n');
    assert.equal(readFileSync(join(root.tree, 'etc/localtime'), 'utf8'), 'TZif2\0\0\0');
  });

  it('checks against the build root when the tree has no zoneinfo', () => {
    zone(buildRoot, 'America/Argentina/Buenos_Aires');
    main(root.args({ zone: 'America/Argentina/Buenos_Aires' }), buildRoot);
    assert.equal(
      readlinkSync(join(root.tree, 'etc/localtime')),
      '../usr/share/zoneinfo/America/Argentina/Buenos_Aires',
    );
    assert.throws(() => main(root.args({ zone: 'Mars/Olympus_Mons' }), buildRoot), /unknown time zone/);
  });

  it('works with the real tzdata of this machine', {
    skip: !existsSync(hostZone) && 'tzdata missing',
  }, () => {
    mkdirSync(join(root.tree, 'usr/share/zoneinfo/Europe'), { recursive: true });
    copyFileSync(hostZone, join(root.tree, 'usr/share/zoneinfo/Europe/Berlin'));
    main(root.args({ zone: 'Europe/Berlin' }));
    assert.equal(readFileSync(join(root.tree, 'etc/localtime')).subarray(0, 4).toString(), 'TZif');
  });

  it('accepts UTC always and rejects bad names and non-zone files', () => {
    main(root.args({ zone: 'UTC' }), buildRoot);
    assert.equal(readlinkSync(join(root.tree, 'etc/localtime')), '../usr/share/zoneinfo/UTC');
    zone(root.tree, 'zone.tab', 'not a zone');
    for (const bad of ['../../etc/passwd', '/Europe/Berlin', 'Europe//Berlin', 'Europe/', 'New York']) {
      assert.throws(() => main(root.args({ zone: bad }), buildRoot), /not a valid time zone name/, bad);
    }
    assert.throws(() => main(root.args({ zone: 'zone.tab' }), buildRoot), /not a valid|unknown time zone/);
    zone(root.tree, 'Fake', 'not a zone');
    assert.throws(() => main(root.args({ zone: 'Fake' }), buildRoot), /unknown time zone 'Fake'/);
  });
});
