import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const hasTmpfiles = (() => {
  try {
    execFileSync('systemd-tmpfiles', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('org.osbuild.tmpfilesd', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  const config = [
    { type: 'd', path: '/var/lib/forge', mode: '0750', user: 'root', group: 'root', age: '10d' },
    { type: 'L+', path: '/etc/forge.conf', argument: '/usr/share/forge/forge.conf' },
    { type: 'f', path: '/var/lib/forge/stamp', mode: '0600', user: '', argument: 'built' },
    { type: 'r!', path: '/var/tmp/forge-*' },
  ];

  it('writes one line per entry, with - for fields skipped before given ones', () => {
    main(root.args({ filename: 'forge.conf', config }));
    const file = join(root.tree, 'usr/lib/tmpfiles.d/forge.conf');
    assert.equal(
      readFileSync(file, 'utf8'),
      [
        'd /var/lib/forge 0750 root root 10d',
        'L+ /etc/forge.conf - - - - /usr/share/forge/forge.conf',
        'f /var/lib/forge/stamp 0600 - - - built',
        'r! /var/tmp/forge-*',
        '',
      ].join('\n'),
    );
    assert.equal(statSync(file).mode & 0o777, 0o644);
  });

  it('gives a file systemd-tmpfiles applies', { skip: !hasTmpfiles && 'systemd-tmpfiles missing' }, () => {
    main(root.args({ filename: 'forge.conf', config: config.slice(0, 3) }));
    execFileSync('systemd-tmpfiles', ['--create', `--root=${root.tree}`, 'forge.conf'], {
      stdio: 'inherit',
    });
    assert.equal(statSync(join(root.tree, 'var/lib/forge')).mode & 0o777, 0o750);
    assert.equal(readlinkSync(join(root.tree, 'etc/forge.conf')), '/usr/share/forge/forge.conf');
    assert.equal(readFileSync(join(root.tree, 'var/lib/forge/stamp'), 'utf8'), 'built');
    assert.ok(lstatSync(join(root.tree, 'var/lib/forge/stamp')).isFile());
  });

  it('rejects line breaks and file names with a slash', () => {
    assert.throws(
      () => main(root.args({ filename: 'x.conf', config: [{ type: 'd', path: '/a\nL /etc/shadow' }] })),
      /line break/,
    );
    assert.throws(
      () => main(root.args({ filename: '../x.conf', config: [{ type: 'd', path: '/a' }] })),
      /invalid file name/,
    );
    assert.equal(existsSync(join(root.tree, 'usr/lib/tmpfiles.d/x.conf')), false);
  });
});
