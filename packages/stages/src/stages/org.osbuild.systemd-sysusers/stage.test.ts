import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const missing = (() => {
  try {
    execFileSync('systemd-sysusers', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'systemd-sysusers is not installed';
  }
})();

describe('org.osbuild.systemd-sysusers', { skip: missing }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('adds the users and groups of the tree’s sysusers.d files', () => {
    mkdirSync(join(root.tree, 'usr/lib/sysusers.d'), { recursive: true });
    mkdirSync(join(root.tree, 'etc'));
    writeFileSync(join(root.tree, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root.tree, 'etc/group'), 'root:x:0:\n');
    writeFileSync(
      join(root.tree, 'usr/lib/sysusers.d/forge.conf'),
      'g forgegrp 4711\nu forge 4712:forgegrp "Forge daemon" /var/lib/forge\n',
    );
    main(root.args({}));
    const passwd = readFileSync(join(root.tree, 'etc/passwd'), 'utf8');
    assert.match(passwd, /^root:x:0:0:/m);
    assert.match(passwd, /^forge:x:4712:4711:Forge daemon:\/var\/lib\/forge:/m);
    assert.match(readFileSync(join(root.tree, 'etc/group'), 'utf8'), /^forgegrp:x:4711:/m);
  });

  it('fails on a broken tree', () => {
    writeFileSync(join(root.tree, 'etc'), 'not a directory');
    mkdirSync(join(root.tree, 'usr/lib/sysusers.d'), { recursive: true });
    writeFileSync(join(root.tree, 'usr/lib/sysusers.d/x.conf'), 'u x -\n');
    assert.throws(() => main(root.args({})), /systemd-sysusers .* failed/);
  });
});
