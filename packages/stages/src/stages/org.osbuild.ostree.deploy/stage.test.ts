import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { InputArgument } from '../../shared/arguments.ts';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as initFs } from '../org.osbuild.ostree.init-fs/stage.ts';
import { main as osInit } from '../org.osbuild.ostree.os-init/stage.ts';
import { main } from './stage.ts';

const skip =
  (!hasProgram('ostree') && 'ostree is not installed') ||
  (!hasProgram('bwrap') && 'bubblewrap is not installed');

const REF = 'debian/12/x86_64/atomic';

describe('org.osbuild.ostree.deploy', { skip }, () => {
  let root: TestRoot;
  let commits: InputArgument;
  let commit: string;
  beforeEach(() => {
    root = testRoot();
    // A small bootable commit, in an input as the engine maps org.osbuild.ostree.
    const content = join(root.dir, 'content');
    mkdirSync(join(content, 'usr/lib/modules/6.1.0-test'), { recursive: true });
    mkdirSync(join(content, 'usr/etc'), { recursive: true });
    writeFileSync(join(content, 'usr/lib/modules/6.1.0-test/vmlinuz'), 'kernel');
    writeFileSync(join(content, 'usr/lib/modules/6.1.0-test/initramfs.img'), 'initramfs');
    writeFileSync(join(content, 'usr/etc/os-release'), 'ID=debian\n');
    const input = root.input('commits');
    const ostree = (...argv: string[]) => execFileSync('ostree', argv, { encoding: 'utf8' }).trim();
    ostree('init', `--repo=${input.path}`, '--mode=archive');
    commit = ostree(
      'commit',
      `--repo=${input.path}`,
      `--branch=${REF}`,
      '--bootable',
      `--tree=dir=${content}`,
    );
    commits = { path: input.path, data: { refs: { [commit]: { ref: REF } } } };
    initFs(root.args({}));
    osInit(root.args({ osname: 'debian' }));
  });
  afterEach(() => {
    // ostree makes each deployment directory immutable.
    const deploy = join(root.tree, 'ostree/deploy/debian/deploy');
    if (existsSync(deploy)) {
      for (const name of readdirSync(deploy)) execFileSync('chattr', ['-i', join(deploy, name)]);
    }
    root.cleanup();
  });
  const at = (p: string) => join(root.tree, p);

  it('deploys the input commit with its boot entry and kernel arguments', () => {
    main(
      root.args(
        {
          osname: 'debian',
          remote: 'origin',
          mounts: ['/boot'],
          rootfs: { label: 'atomic-root' },
          kernel_opts: ['rw', 'console=ttyS0'],
        },
        { inputs: { commits } },
      ),
    );
    const repo = at('ostree/repo');
    // The remote's ref, and the one ostree keeps for the deployment.
    assert.deepEqual(
      execFileSync('ostree', ['refs', `--repo=${repo}`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort(),
      [`origin:${REF}`, 'ostree/1/1/0'],
    );
    assert.deepEqual(readdirSync(at('ostree/deploy/debian/deploy')).sort(), [
      `${commit}.0`,
      `${commit}.0.origin`,
    ]);
    assert.equal(
      readFileSync(at(`ostree/deploy/debian/deploy/${commit}.0/etc/os-release`), 'utf8'),
      'ID=debian\n',
    );
    assert.match(
      readFileSync(at(`ostree/deploy/debian/deploy/${commit}.0.origin`), 'utf8'),
      new RegExp(`refspec=origin:${REF}`),
    );
    const entries = at('boot/loader/entries');
    const [entry] = readdirSync(entries);
    const text = readFileSync(join(entries, entry as string), 'utf8');
    assert.match(
      text,
      /^options root=LABEL=atomic-root rw console=ttyS0 ostree=\/ostree\/boot\.1\/debian\/[0-9a-f]{64}\/0$/m,
    );
    // Paths relative to /boot, the boot partition (sysroot.bootprefix is false by default).
    assert.match(text, /^linux \/ostree\/debian-[0-9a-f]{64}\/vmlinuz-6\.1\.0-test$/m);
    assert.match(text, /^initrd \/ostree\/debian-[0-9a-f]{64}\/initramfs-6\.1\.0-test\.img$/m);
  });

  it('deploys a ref of the repository without an input', () => {
    execFileSync('ostree', ['pull-local', `--repo=${at('ostree/repo')}`, commits.path, REF]);
    main(root.args({ osname: 'debian', ref: REF, rootfs: { uuid: '0123-abcd' } }));
    const entries = at('boot/loader/entries');
    const text = readFileSync(join(entries, readdirSync(entries)[0] as string), 'utf8');
    assert.match(text, /^options root=UUID=0123-abcd ostree=/m);
  });

  it('refuses a ref with an input, a missing mount point and a bad osname', () => {
    assert.throws(
      () => main(root.args({ osname: 'debian', ref: REF }, { inputs: { commits } })),
      /cannot be given/,
    );
    assert.throws(
      () => main(root.args({ osname: 'debian', mounts: ['/boot/efi'] }, { inputs: { commits } })),
      /not a directory/,
    );
    assert.throws(() => main(root.args({ osname: '../x', ref: REF })), /invalid osname/);
  });
});
