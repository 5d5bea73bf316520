/**
 * For the tests of stages that work on an OSTree deployment: a real commit made with `ostree
 * commit` from files the test names, deployed into a system root by the real init-fs, os-init and
 * deploy stages, and the removal of what `ostree admin deploy` made immutable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { main as deploy } from '../stages/org.osbuild.ostree.deploy/stage.ts';
import { main as initFs } from '../stages/org.osbuild.ostree.init-fs/stage.ts';
import { main as osInit } from '../stages/org.osbuild.ostree.os-init/stage.ts';
import { hasProgram, type TestRoot } from './stage.fixture.ts';

/** Why a deployment cannot be made here, or false. */
export const deploymentUnavailable: string | false =
  (!hasProgram('ostree') && 'ostree is not installed') ||
  (!hasProgram('bwrap') && 'bubblewrap is not installed');

export const TEST_REF = 'debian/12/x86_64/test';

export interface Deployed {
  commit: string;
  /** Host path of the deployment directory. */
  path: string;
  /** Host path of the stateroot's /var. */
  stateVar: string;
}

/**
 * Commits a bootable tree holding `files` (path → content, relative to the tree) and deploys it as
 * osname `debian` into `sysroot`.
 */
export function deployFiles(root: TestRoot, sysroot: string, files: Record<string, string>): Deployed {
  const content = join(root.dir, 'content');
  const all = {
    'usr/lib/modules/6.1.0-test/vmlinuz': 'kernel',
    'usr/lib/modules/6.1.0-test/initramfs.img': 'initramfs',
    'usr/etc/os-release': 'ID=debian\n',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(content, path)), { recursive: true });
    writeFileSync(join(content, path), text);
  }
  // An empty /var, as org.osbuild.ostree.preptree leaves it.
  mkdirSync(join(content, 'var'), { recursive: true });
  const repo = join(root.dir, 'commit-repo');
  execFileSync('ostree', ['init', `--repo=${repo}`, '--mode=archive']);
  const commit = execFileSync(
    'ostree',
    ['commit', `--repo=${repo}`, `--branch=${TEST_REF}`, '--bootable', `--tree=dir=${content}`],
    { encoding: 'utf8' },
  ).trim();
  const args = <O>(options: O) => ({ ...root.args(options), tree: sysroot });
  initFs(args({}));
  osInit(args({ osname: 'debian' }));
  const input = { path: repo, data: { refs: { [commit]: { ref: TEST_REF } } } };
  deploy({ ...args({ osname: 'debian', remote: 'origin' }), inputs: { commits: input } });
  return {
    commit,
    path: join(sysroot, 'ostree/deploy/debian/deploy', `${commit}.0`),
    stateVar: join(sysroot, 'ostree/deploy/debian/var'),
  };
}

/** Clears the immutable bit of every deployment in `sysroot`, so the directory can be removed. */
export function clearImmutable(sysroot: string): void {
  const base = join(sysroot, 'ostree/deploy');
  if (!existsSync(base)) return;
  for (const osname of readdirSync(base)) {
    const deploy = join(base, osname, 'deploy');
    if (!existsSync(deploy)) continue;
    for (const name of readdirSync(deploy)) execFileSync('chattr', ['-i', join(deploy, name)]);
  }
}
