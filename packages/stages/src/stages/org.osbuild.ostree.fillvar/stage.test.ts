import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  clearImmutable,
  type Deployed,
  deployFiles,
  deploymentUnavailable,
  TEST_REF,
} from '../../shared/ostree.fixture.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

// tmpfiles.d of the commit, as org.osbuild.ostree.preptree writes them for a Debian tree.
const TMPFILES = [
  'd /var/home 0755 root root -',
  'd /var/roothome 0700 root root -',
  'L /var/lib/dpkg - - - - ../../usr/lib/sysimage/dpkg',
  'd /var/opt 0755 root root -',
  'd /var/srv 0750 root root -',
  'd /var/spool/mail 2775 root 8 -',
  'd /var/cache/forge 0755 root root -',
  'x /var/nothing',
].join('\n');

describe('org.osbuild.ostree.fillvar', { skip: deploymentUnavailable }, () => {
  let root: TestRoot;
  let deployed: Deployed;
  beforeEach(() => {
    root = testRoot();
    deployed = deployFiles(root, root.tree, {
      'usr/lib/tmpfiles.d/forge-var.conf': `${TMPFILES}\n`,
      'usr/lib/sysimage/dpkg/status': '',
    });
  });
  afterEach(() => {
    clearImmutable(root.tree);
    root.cleanup();
  });

  const kind = (path: string) => {
    const st = lstatSync(join(deployed.stateVar, path), { throwIfNoEntry: false });
    if (!st) return 'missing';
    if (st.isSymbolicLink()) return `link ${readlinkSync(join(deployed.stateVar, path))}`;
    return `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)} ${st.gid}`;
  };

  it('creates the listed /var entries of the stateroot from the commit’s tmpfiles.d', () => {
    // ostree admin deploy made lib, log, tmp and the like; none of the listed entries.
    assert.equal(kind('home'), 'missing');
    assert.equal(kind('lib/dpkg'), 'missing');
    // A directory already there stays as it is.
    mkdirSync(join(deployed.stateVar, 'opt'), { mode: 0o711 });
    writeFileSync(join(deployed.stateVar, 'opt/kept'), '');
    main(root.args({ deployment: { osname: 'debian', ref: TEST_REF } }));
    assert.equal(kind('home'), 'dir 755 0');
    assert.equal(kind('roothome'), 'dir 700 0');
    assert.equal(kind('lib/dpkg'), 'link ../../usr/lib/sysimage/dpkg');
    assert.equal(kind('srv'), 'dir 750 0');
    assert.equal(kind('spool/mail'), 'dir 2775 8');
    assert.equal(kind('log'), 'dir 755 0');
    assert.deepEqual(readdirSync(join(deployed.stateVar, 'opt')), ['kept']);
    assert.equal(kind('opt'), 'dir 711 0');
    // Only the listed prefixes: the cache line waits for the first boot.
    assert.equal(kind('cache'), 'missing');
    // The deployment's own /var stays an empty mount point.
    assert.deepEqual(readdirSync(join(deployed.path, 'var')), []);
  });

  it('finds the only deployment with default: true, and refuses what is not there', () => {
    main(root.args({ deployment: { default: true } }));
    assert.equal(kind('roothome'), 'dir 700 0');
    assert.throws(
      () => main(root.args({ deployment: { osname: 'debian', ref: TEST_REF, serial: 1 } })),
      /no deployment at \/ostree\/deploy\/debian\/deploy\/[0-9a-f]{64}\.1/,
    );
    assert.throws(
      () => main(root.args({ deployment: { osname: 'debian', ref: 'debian/none' } })),
      /ostree ref 'debian\/none' not found/,
    );
    assert.throws(() => main(root.args({ deployment: { osname: '../x', ref: TEST_REF } })), /invalid osname/);
  });
});
