import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { which } from '@debian-forge/host';
import type { Mount } from '@debian-forge/manifest';
import { mountPoints, ResourceRegistry } from '../crash-registry.ts';
import { commitFiles, hasOstree, ostree } from '../ostree.fixture.ts';
import { type MountHandle, mountAll, unmountAll } from './index.ts';

const REF = 'debian/12/x86_64/test';
const skip =
  (process.getuid?.() !== 0 && 'needs root (mounts)') ||
  (!hasOstree && 'ostree is not installed') ||
  (!which('chattr') && 'chattr is not installed');

const mount = (name: string, type: string, target: string | null, options: Record<string, unknown>): Mount =>
  ({ name, type, device: null, partition: null, target, options, id: name }) as Mount;

describe('mount org.osbuild.ostree.deployment', { skip }, () => {
  let work: string;
  let sysroot: string;
  let commit: string;
  let registry: ResourceRegistry;
  const log = () => {};
  const under = (dir: string) => mountPoints().filter((p) => p === dir || p.startsWith(`${dir}/`));

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'forge-mount-ostree-'));
    // A deployed system root, made with the ostree command as the ostree stages make it.
    const content = join(work, 'content');
    commitFiles(join(work, 'repo'), content, REF, {
      'usr/lib/modules/6.1.0-test/vmlinuz': 'kernel',
      'usr/lib/modules/6.1.0-test/initramfs.img': 'initramfs',
      'usr/etc/os-release': 'ID=debian\n',
    });
    // Committed again with the empty directories and the link a deployment needs.
    for (const dir of ['boot', 'sysroot', 'var']) mkdirSync(join(content, dir));
    symlinkSync('sysroot/ostree', join(content, 'ostree'));
    commit = ostree(join(work, 'repo'), 'commit', `--branch=${REF}`, `--tree=dir=${content}`);
    sysroot = join(work, 'sysroot');
    mkdirSync(sysroot);
    execFileSync('ostree', ['admin', 'init-fs', '--modern', sysroot]);
    execFileSync('ostree', ['admin', 'os-init', `--sysroot=${sysroot}`, 'debian']);
    ostree(join(sysroot, 'ostree/repo'), 'pull-local', join(work, 'repo'), REF);
    ostree(join(sysroot, 'ostree/repo'), 'config', 'set', 'sysroot.bootloader', 'none');
    execFileSync('ostree', ['admin', 'deploy', `--sysroot=${sysroot}`, '--os=debian', REF], {
      stdio: 'ignore',
    });
    registry = await ResourceRegistry.open(join(work, 'run'));
  });
  after(async () => {
    await registry?.close();
    const deploy = join(sysroot, 'ostree/deploy/debian/deploy');
    for (const name of existsSync(deploy) ? readdirSync(deploy) : [])
      execFileSync('chattr', ['-i', join(deploy, name)]);
    rmSync(work, { recursive: true, force: true });
  });

  it('shows the deployment at the tree, with /sysroot, /var and /boot bound, until closed', async () => {
    const root = join(work, 'mounts-a');
    mkdirSync(root);
    const mounts = await mountAll(
      new Map([
        [
          'd',
          mount('d', 'org.osbuild.ostree.deployment', null, { deployment: { osname: 'debian', ref: REF } }),
        ],
      ]),
      new Map(),
      { root, tree: sysroot, registry, log },
    );
    try {
      assert.equal(mounts.get('d')?.hidden, true);
      // The deployment's merged /etc, its /usr, the system root and the stateroot's /var.
      assert.equal(readFileSync(join(sysroot, 'etc/os-release'), 'utf8'), 'ID=debian\n');
      assert.ok(existsSync(join(sysroot, 'usr/lib/modules/6.1.0-test/vmlinuz')));
      assert.ok(existsSync(join(sysroot, 'sysroot/ostree/deploy/debian/deploy', `${commit}.0`)));
      assert.ok(existsSync(join(sysroot, 'boot/loader')));
      writeFileSync(join(sysroot, 'var/written'), 'state\n');
      writeFileSync(join(sysroot, 'etc/hostname'), 'atomic\n');
      assert.equal(under(sysroot).length, 5);
      assert.ok(registry.entries.some((e) => e.kind === 'mount' && e.target === join(sysroot, 'var')));
    } finally {
      await unmountAll(mounts, log);
    }
    assert.deepEqual(under(sysroot), []);
    assert.deepEqual(registry.entries, []);
    // What was written went to the stateroot and to the deployment.
    assert.equal(readFileSync(join(sysroot, 'ostree/deploy/debian/var/written'), 'utf8'), 'state\n');
    assert.equal(
      readFileSync(join(sysroot, 'ostree/deploy/debian/deploy', `${commit}.0/etc/hostname`), 'utf8'),
      'atomic\n',
    );
  });

  it('mounts the deployment of the mount root (source: mount) and leaves the mounts made before it', async () => {
    const root = join(work, 'mounts-b');
    mkdirSync(root);
    let mounts: Map<string, MountHandle> | undefined;
    try {
      mounts = await mountAll(
        new Map([
          ['root', mount('root', 'org.osbuild.bind', '/', { source: 'tree:///' })],
          ['boot', mount('boot', 'org.osbuild.bind', '/boot', { source: 'tree:///boot' })],
          [
            'd',
            mount('d', 'org.osbuild.ostree.deployment', null, {
              source: 'mount',
              deployment: { default: true },
            }),
          ],
        ]),
        new Map(),
        { root, tree: sysroot, registry, log },
      );
      assert.equal(readFileSync(join(root, 'etc/os-release'), 'utf8'), 'ID=debian\n');
      await mounts.get('d')?.close();
      // The mounts made before it are still there, the system root showing as it is.
      assert.deepEqual(under(root), [root, join(root, 'boot')]);
      assert.deepEqual(readdirSync(root).sort(), ['boot', 'ostree']);
    } finally {
      if (mounts) await unmountAll(mounts, log);
    }
    assert.deepEqual(under(root), []);
  });

  it('refuses what is not there, and a crashed engine’s registry releases the mounts', async () => {
    const root = join(work, 'mounts-c');
    mkdirSync(root);
    const deployment = (d: Record<string, unknown>) =>
      mountAll(
        new Map([['d', mount('d', 'org.osbuild.ostree.deployment', null, { deployment: d })]]),
        new Map(),
        {
          root,
          tree: sysroot,
          registry,
          log,
        },
      );
    await assert.rejects(
      deployment({ osname: 'debian', ref: 'debian/none' }),
      /mount d: cannot resolve the ref debian\/none/,
    );
    await assert.rejects(
      deployment({ osname: 'debian', ref: REF, serial: 3 }),
      /mount d: no deployment at .*\.3/,
    );
    await assert.rejects(deployment({ osname: '../x', ref: REF }), /invalid osname/);
    assert.deepEqual(under(sysroot), []);
    // The engine dies with the deployment mounted: its registry still releases everything.
    const crashed = await ResourceRegistry.open(join(work, 'run-crashed'));
    await mountAll(
      new Map([['d', mount('d', 'org.osbuild.ostree.deployment', null, { deployment: { default: true } })]]),
      new Map(),
      {
        root,
        tree: sysroot,
        registry: crashed,
        log,
      },
    );
    assert.equal(under(sysroot).length, 5);
    await crashed.close();
    assert.deepEqual(under(sysroot), []);
  });
});
