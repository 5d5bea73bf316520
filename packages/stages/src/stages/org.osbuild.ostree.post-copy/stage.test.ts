import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { attempt } from '../../shared/exec.ts';
import {
  clearImmutable,
  type Deployed,
  deployFiles,
  deploymentUnavailable,
} from '../../shared/ostree.fixture.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { fsverityWanted, main } from './stage.ts';

const hasFsverity = attempt(['sh', '-c', 'command -v fsverity']).status === 0;

const immutable = (path: string) =>
  execFileSync('lsattr', ['-d', path], { encoding: 'utf8' }).split(' ')[0]?.includes('i');

describe('org.osbuild.ostree.post-copy: the repository config', () => {
  it('asks for fs-verity as ostree reads it', () => {
    assert.equal(fsverityWanted('[core]\nrepo_version=1\nmode=bare\n'), 'no');
    assert.equal(fsverityWanted('[ex-fsverity]\nrequired=true\n'), 'yes');
    assert.equal(fsverityWanted('[ex-fsverity]\nopportunistic=true\n'), 'maybe');
    assert.equal(fsverityWanted('[integrity]\ncomposefs=true\n'), 'maybe');
    assert.equal(fsverityWanted('[integrity]\ncomposefs=yes\nfsverity=yes\n'), 'yes');
    assert.equal(fsverityWanted('[integrity]\nfsverity=no\n[ex-fsverity]\nrequired=true\n'), 'yes');
    assert.throws(() => fsverityWanted('[integrity]\nfsverity=perhaps\n'), /invalid value 'perhaps'/);
  });
});

describe('org.osbuild.ostree.post-copy', { skip: deploymentUnavailable }, () => {
  let root: TestRoot;
  let deployed: Deployed;
  let built: string;
  const mounts = () => join(root.dir, 'mounts');
  beforeEach(() => {
    root = testRoot();
    built = join(root.dir, 'built');
    mkdirSync(built);
    deployed = deployFiles(root, built, {});
  });
  afterEach(() => {
    clearImmutable(built);
    clearImmutable(mounts());
    clearImmutable(join(mounts(), 'sysroot'));
    root.cleanup();
  });
  const copyTo = (dest: string) => {
    mkdirSync(dest, { recursive: true });
    // A file-level copy: what it loses is what post-copy restores.
    execFileSync('cp', ['-a', `${built}/.`, dest]);
    return join(dest, deployed.path.slice(built.length));
  };

  it('makes the copied deployment immutable again', () => {
    assert.ok(immutable(deployed.path));
    const copy = copyTo(mounts());
    assert.ok(!immutable(copy));
    main(root.args({}));
    assert.ok(immutable(copy));
    // Nothing else changed: the same deployments, the origin file untouched.
    assert.deepEqual(readdirSync(join(copy, '..')).sort(), [
      `${deployed.commit}.0`,
      `${deployed.commit}.0.origin`,
    ]);
    assert.ok(!immutable(`${copy}.origin`));
  });

  it('finds the system root at `sysroot` inside the mounts, and refuses a tree without one', () => {
    const copy = copyTo(join(mounts(), 'sysroot'));
    assert.throws(() => main(root.args({})), /no OSTree system root at \/ of the mounts/);
    main(root.args({ sysroot: '/sysroot' }));
    assert.ok(immutable(copy));
  });

  it('enables fs-verity when the repository asks for it, or says the file system cannot', {
    skip: !hasFsverity && 'fsverity (fsverity-utils) is not installed',
  }, () => {
    copyTo(mounts());
    const repo = join(mounts(), 'ostree/repo');
    const probe = join(mounts(), 'probe');
    writeFileSync(probe, 'probe');
    const supported = attempt(['fsverity', 'enable', probe]).status === 0;
    appendFileSync(join(repo, 'config'), '[ex-fsverity]\nrequired=true\n');
    if (!supported) {
      assert.throws(() => main(root.args({})), /fs-verity is required, but the file system of .* lacks it/);
      return;
    }
    main(root.args({}));
    const objects = join(repo, 'objects');
    const prefix = readdirSync(objects).find((p) => /^[0-9a-f]{2}$/.test(p)) as string;
    const object = join(objects, prefix, readdirSync(join(objects, prefix))[0] as string);
    assert.match(
      execFileSync('fsverity', ['measure', object], { encoding: 'utf8' }),
      /^sha256:[0-9a-f]{64} /,
    );
  });
});
