import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { run, which } from '@debian-forge/host';
import type { Device, Mount } from '@debian-forge/manifest';
import { parseJson } from '@debian-forge/manifest';
import { isMountPoint, listLoops, ResourceRegistry } from '../crash-registry.ts';
import { type DeviceHandle, openDevices } from '../devices/index.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { needRoot } from '../root.fixture.ts';
import { type MountHandle, mountAll, mountOptions } from './index.ts';

function need(t: TestContext, programs: string[], fs?: string): boolean {
  if (!needRoot(t, 'loop devices and mounts', ['losetup', 'mount', 'umount', ...programs])) return false;
  if (fs && !kernelHas(fs)) {
    t.skip(`the kernel of this machine has no ${fs}`);
    return false;
  }
  return true;
}

function kernelHas(fs: string): boolean {
  return readFileSync('/proc/filesystems', 'utf8')
    .split('\n')
    .some((l) => l.split('\t').pop() === fs);
}

/** The mount options of the file system mounted at `path`, from mountinfo. */
function optionsAt(path: string): string[] {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== path) continue;
    const super_ = line.split(' - ')[1]?.split(' ')[2] ?? '';
    return [...(fields[5] ?? '').split(','), ...super_.split(',')];
  }
  return [];
}

let work: string;
let registry: ResourceRegistry;
let n = 0;
const log = () => {};

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'forge-mounts-test-'));
  registry = await ResourceRegistry.open(join(work, 'run'));
});

after(async () => {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh tree, /dev and mount root for one test. */
function scene() {
  const dir = join(work, `scene-${n++}`);
  const s = { tree: join(dir, 'tree'), devDir: join(dir, 'dev'), root: join(dir, 'mounts') };
  for (const d of Object.values(s)) mkdirSync(d, { recursive: true });
  return s;
}

const device = (name: string, options: Record<string, unknown>): Device => ({
  name,
  type: 'org.osbuild.loopback',
  parent: null,
  options,
  id: name,
});

function mount(
  name: string,
  type: string,
  dev: Device | null,
  target: string | null,
  options: Record<string, unknown> | null = {},
  partition: number | null = null,
): Mount {
  return {
    name,
    type,
    device: dev,
    partition,
    partitionJson: partition === null ? null : String(partition),
    target,
    options,
    id: name,
  };
}

async function closeEverything(mounts?: Map<string, MountHandle>, devices?: Map<string, DeviceHandle>) {
  for (const m of [...(mounts?.values() ?? [])].reverse()) await m.close().catch(() => {});
  for (const d of [...(devices?.values() ?? [])].reverse()) await d.close().catch(() => {});
}

async function debugfsCat(image: string, path: string): Promise<string> {
  return (await run(['debugfs', '-R', `cat ${path}`, image])).stdout;
}

describe('mountOptions', () => {
  it('translates options as OSBuild does, in its order', () => {
    assert.deepEqual(mountOptions(null), []);
    assert.deepEqual(mountOptions({}), []);
    assert.deepEqual(mountOptions({ readonly: false, norecovery: 0 }), []);
    assert.deepEqual(
      mountOptions({
        compress: 'zstd:1',
        subvol: 'root',
        shortname: 'winnt',
        umask: '077',
        gid: 0,
        uid: 1000,
        norecovery: true,
        readonly: true,
      }),
      ['-o', 'ro,norecovery,uid=1000,gid=0,umask=077,shortname=winnt,subvol=root,compress=zstd:1'],
    );
    // Numbers keep the form the manifest wrote them in, as Python's str() prints them.
    const parsed = parseJson('{"uid": 1.0, "gid": 2}') as Record<string, unknown>;
    assert.deepEqual(mountOptions(parsed), ['-o', 'uid=1.0,gid=2']);
  });
});

describe('mountAll', () => {
  it('mounts ext4 at the mount root, writes through it, and unmounts on close', async (t) => {
    if (!need(t, ['mkfs.ext4', 'debugfs'], 'ext4')) return;
    const s = scene();
    const image = join(s.tree, 'disk.img');
    writeFileSync(image, Buffer.alloc(16 << 20));
    await run(['mkfs.ext4', '-q', image]);
    const disk = device('disk', { filename: 'disk.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    let mounts: Map<string, MountHandle> | undefined;
    try {
      devices = await openDevices(new Map([['disk', disk]]), { ...s, registry, log });
      mounts = await mountAll(
        new Map([
          ['root', mount('root', 'org.osbuild.ext4', disk, '/')],
          ['scratch', mount('scratch', 'org.osbuild.noop', null, '/scratch', { anything: 1 })],
        ]),
        devices,
        { ...s, registry, log },
      );
      const root = mounts.get('root') as MountHandle;
      assert.equal(root.path, s.root);
      assert.ok(isMountPoint(s.root));
      assert.ok(registry.entries.some((e) => e.kind === 'mount' && e.target === s.root));
      assert.equal(mounts.get('scratch')?.path, join(s.root, 'scratch'));
      writeFileSync(join(s.root, 'file'), 'written through the mount\n');
      await mounts.get('scratch')?.close();
      await root.close();
      assert.equal(isMountPoint(s.root), false);
      assert.equal(
        registry.entries.some((e) => e.kind === 'mount'),
        false,
      );
      await root.close(); // idempotent
      await devices.get('disk')?.close();
      assert.equal(await debugfsCat(image, '/file'), 'written through the mount\n');
    } finally {
      await closeEverything(mounts, devices);
    }
  });

  it('mounts read-only when asked, and refuses unknown mount types', async (t) => {
    if (!need(t, ['mkfs.ext4'], 'ext4')) return;
    const s = scene();
    const image = join(s.tree, 'ro.img');
    writeFileSync(image, Buffer.alloc(16 << 20));
    await run(['mkfs.ext4', '-q', image]);
    const disk = device('disk', { filename: 'ro.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    let mounts: Map<string, MountHandle> | undefined;
    try {
      devices = await openDevices(new Map([['disk', disk]]), { ...s, registry, log });
      mounts = await mountAll(
        new Map([
          ['root', mount('root', 'org.osbuild.ext4', disk, null, { readonly: true, norecovery: true })],
        ]),
        devices,
        { ...s, registry, log },
      );
      assert.ok(optionsAt(s.root).includes('ro'));
      assert.ok(optionsAt(s.root).includes('norecovery'));
      assert.throws(() => writeFileSync(join(s.root, 'x'), 'x'), /EROFS/);
      await assert.rejects(
        mountAll(new Map([['odd', mount('odd', 'org.osbuild.ostree.deployment', null, '/')]]), devices, {
          ...s,
          registry,
          log,
        }),
        (e: unknown) =>
          e instanceof EngineError &&
          e.code === EngineErrorCode.Mount &&
          /org\.osbuild\.ostree\.deployment/.test(e.message),
      );
    } finally {
      await closeEverything(mounts, devices);
    }
  });

  it('mounts partition N through a loop device at its offset when the kernel made no partition nodes', async (t) => {
    if (!need(t, ['sfdisk', 'mkfs.ext4', 'debugfs'], 'ext4')) return;
    const s = scene();
    const image = join(s.tree, 'gpt.img');
    writeFileSync(image, Buffer.alloc(24 << 20));
    await run(['sfdisk', '--quiet', image], { input: 'label: gpt\nsize=4MiB\nsize=12MiB\n' });
    // File systems made outside and copied in at the partitions' offsets (1 MiB and 5 MiB).
    const content = join(work, `content-${n}`);
    mkdirSync(content);
    writeFileSync(join(content, 'hello'), 'from partition 2\n');
    const p2 = join(work, `p2-${n}.img`);
    const p1 = join(work, `p1-${n}.img`);
    await run(['mkfs.ext4', '-q', '-d', content, p2, '12M']);
    await run(['mkfs.ext4', '-q', p1, '4M']);
    const fd = openSync(image, 'r+');
    writeSync(fd, readFileSync(p1), 0, 4 << 20, 1 << 20);
    writeSync(fd, readFileSync(p2), 0, 12 << 20, 5 << 20);
    closeSync(fd);

    const disk = device('disk', { filename: 'gpt.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    let mounts: Map<string, MountHandle> | undefined;
    try {
      devices = await openDevices(new Map([['disk', disk]]), { ...s, registry, log });
      const whole = devices.get('disk') as DeviceHandle;
      mounts = await mountAll(
        new Map([
          ['root', mount('root', 'org.osbuild.ext4', disk, '/', {}, 2)],
          ['boot', mount('boot', 'org.osbuild.ext4', disk, '/boot', {}, 1)],
        ]),
        devices,
        { ...s, registry, log },
      );
      assert.equal(readFileSync(join(s.root, 'hello'), 'utf8'), 'from partition 2\n');
      assert.ok(isMountPoint(join(s.root, 'boot')));
      writeFileSync(join(s.root, 'root-file'), 'root\n');
      writeFileSync(join(s.root, 'boot', 'boot-file'), 'boot\n');
      const partLoops = (await listLoops()).filter((l) => l.backingFile === whole.path);
      if (!existsSync(`${whole.path}p2`)) {
        assert.deepEqual(
          partLoops.map((l) => l.offset).sort((a, b) => a - b),
          [1 << 20, 5 << 20],
        );
      }
      await mounts.get('boot')?.close();
      await mounts.get('root')?.close();
      assert.deepEqual(
        (await listLoops()).filter((l) => l.backingFile === whole.path),
        [],
        'the partition loop devices are detached',
      );
      await assert.rejects(
        mountAll(new Map([['p3', mount('p3', 'org.osbuild.ext4', disk, '/', {}, 3)]]), devices, {
          ...s,
          registry,
          log,
        }),
        /has no partition 3 \(partitions: 1, 2\)/,
      );
      await whole.close();
      assert.equal(await debugfsCat(`${image}?offset=${5 << 20}`, '/root-file'), 'root\n');
      assert.equal(await debugfsCat(`${image}?offset=${1 << 20}`, '/boot-file'), 'boot\n');
    } finally {
      await closeEverything(mounts, devices);
    }
  });

  it('unmounts the first mount when the second fails', async (t) => {
    if (!need(t, ['sfdisk', 'mkfs.ext4'], 'ext4')) return;
    const s = scene();
    const image = join(s.tree, 'one.img');
    writeFileSync(image, Buffer.alloc(16 << 20));
    await run(['mkfs.ext4', '-q', image]);
    const disk = device('disk', { filename: 'one.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    try {
      devices = await openDevices(new Map([['disk', disk]]), { ...s, registry, log });
      await assert.rejects(
        mountAll(
          new Map([
            ['root', mount('root', 'org.osbuild.ext4', disk, '/')],
            ['bad', mount('bad', 'org.osbuild.ext4', disk, '/efi', {}, 3)],
          ]),
          devices,
          { ...s, registry, log },
        ),
        (e: unknown) =>
          e instanceof EngineError && e.code === EngineErrorCode.Mount && /partition 3/.test(e.message),
      );
      assert.equal(isMountPoint(s.root), false, 'the first mount was undone');
      assert.equal(
        registry.entries.some((e) => e.kind === 'mount'),
        false,
      );
      assert.deepEqual(
        (await listLoops()).filter((l) => l.backingFile === devices?.get('disk')?.path),
        [],
      );
    } finally {
      await closeEverything(undefined, devices);
    }
  });

  it('refuses vfat with a clear message where the kernel lacks it, and mounts it where it has it', async (t) => {
    if (!need(t, ['mkfs.vfat'])) return;
    const s = scene();
    const image = join(s.tree, 'esp.img');
    writeFileSync(image, Buffer.alloc(8 << 20));
    await run(['mkfs.vfat', image]);
    const esp = device('esp', { filename: 'esp.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    let mounts: Map<string, MountHandle> | undefined;
    try {
      devices = await openDevices(new Map([['esp', esp]]), { ...s, registry, log });
      const fat = new Map([
        ['efi', mount('efi', 'org.osbuild.fat', esp, '/boot/efi', { umask: '077', shortname: 'winnt' })],
      ]);
      if (!kernelHas('vfat') && !which('modprobe')) {
        await assert.rejects(
          mountAll(fat, devices, { ...s, registry, log }),
          (e: unknown) =>
            e instanceof EngineError &&
            e.code === EngineErrorCode.Mount &&
            e.message.includes('the kernel of this machine cannot mount vfat (org.osbuild.fat)'),
        );
        assert.equal(isMountPoint(join(s.root, 'boot', 'efi')), false);
        return;
      }
      try {
        mounts = await mountAll(fat, devices, { ...s, registry, log });
      } catch (e) {
        // modprobe was there but could not load it: the message must still say so.
        assert.ok(
          e instanceof EngineError && e.message.includes('cannot mount vfat (org.osbuild.fat)'),
          String(e),
        );
        return;
      }
      writeFileSync(join(s.root, 'boot', 'efi', 'BOOT.TXT'), 'esp\n');
      await mounts.get('efi')?.close();
      await devices.get('esp')?.close();
      if (which('mtype')) {
        assert.equal((await run(['mtype', '-i', image, '::/BOOT.TXT'])).stdout, 'esp\n');
      }
    } finally {
      await closeEverything(mounts, devices);
    }
  });

  it('mounts btrfs with compress and subvol', async (t) => {
    if (!need(t, ['mkfs.btrfs', 'btrfs'], 'btrfs')) return;
    const s = scene();
    const image = join(s.tree, 'btrfs.img');
    writeFileSync(image, '');
    await run(['truncate', '--size=128M', image]);
    await run(['mkfs.btrfs', '--quiet', image]);
    const disk = device('disk', { filename: 'btrfs.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    let mounts: Map<string, MountHandle> | undefined;
    try {
      devices = await openDevices(new Map([['disk', disk]]), { ...s, registry, log });
      const ctx = { ...s, registry, log };
      mounts = await mountAll(
        new Map([['top', mount('top', 'org.osbuild.btrfs', disk, '/', { compress: 'zstd' })]]),
        devices,
        ctx,
      );
      assert.ok(optionsAt(s.root).includes('compress=zstd:3') || optionsAt(s.root).includes('compress=zstd'));
      await run(['btrfs', 'subvolume', 'create', join(s.root, 'sv')]);
      writeFileSync(join(s.root, 'sv', 'in-subvol'), 'sv\n');
      await mounts.get('top')?.close();
      mounts = await mountAll(
        new Map([['sv', mount('sv', 'org.osbuild.btrfs', disk, '/', { subvol: 'sv' })]]),
        devices,
        ctx,
      );
      assert.equal(readFileSync(join(s.root, 'in-subvol'), 'utf8'), 'sv\n');
    } finally {
      await closeEverything(mounts, devices);
    }
  });

  it('mounts xfs read-only without log recovery', async (t) => {
    if (!need(t, ['mkfs.xfs'], 'xfs')) return;
    const s = scene();
    const image = join(s.tree, 'xfs.img');
    writeFileSync(image, '');
    await run(['truncate', '--size=320M', image]);
    await run(['mkfs.xfs', '-q', image]);
    const disk = device('disk', { filename: 'xfs.img' });
    let devices: Map<string, DeviceHandle> | undefined;
    let mounts: Map<string, MountHandle> | undefined;
    try {
      devices = await openDevices(new Map([['disk', disk]]), { ...s, registry, log });
      mounts = await mountAll(
        new Map([
          ['root', mount('root', 'org.osbuild.xfs', disk, '/', { readonly: true, norecovery: true })],
        ]),
        devices,
        { ...s, registry, log },
      );
      assert.ok(optionsAt(s.root).includes('ro'));
      assert.ok(optionsAt(s.root).includes('norecovery'));
    } finally {
      await closeEverything(mounts, devices);
    }
  });

  it('bind-mounts a tree:// location', async (t) => {
    if (!need(t, [])) return;
    const s = scene();
    mkdirSync(join(s.tree, 'boot', 'inner'), { recursive: true });
    writeFileSync(join(s.tree, 'boot', 'inner', 'f'), 'bound\n');
    let mounts: Map<string, MountHandle> | undefined;
    try {
      mounts = await mountAll(
        new Map([['b', mount('b', 'org.osbuild.bind', null, '/bound', { source: 'tree:///boot' })]]),
        new Map(),
        { ...s, registry, log },
      );
      const target = join(s.root, 'bound');
      assert.equal(mounts.get('b')?.path, target);
      assert.equal(readFileSync(join(target, 'inner', 'f'), 'utf8'), 'bound\n');
      await mounts.get('b')?.close();
      assert.equal(isMountPoint(target), false);
      await assert.rejects(
        mountAll(
          new Map([['x', mount('x', 'org.osbuild.bind', null, '/x', { source: 'tree://../../etc' })]]),
          new Map(),
          {
            ...s,
            registry,
            log,
          },
        ),
        /outside its root/,
      );
    } finally {
      await closeEverything(mounts);
    }
  });

  it('refuses a bind source or a target that a symbolic link leads out of its root: nothing is mounted on the host', async (t) => {
    if (!need(t, [])) return;
    const s = scene();
    const host = join(work, `host-${n++}`);
    mkdirSync(host);
    writeFileSync(join(host, 'secret'), 'host\n');
    symlinkSync(host, join(s.tree, 'link'));
    symlinkSync(host, join(s.root, 'boot'));
    const attempts: [string, string, Record<string, unknown>][] = [
      ['source', '/x', { source: 'tree:///link' }],
      ['deeper', '/y', { source: 'tree:///link/secret' }],
      ['target', '/boot/z', { source: 'tree:///' }],
      ['mount-target', '/w', { source: 'mount://boot/' }],
    ];
    for (const [name, target, options] of attempts) {
      await assert.rejects(
        mountAll(new Map([[name, mount(name, 'org.osbuild.bind', null, target, options)]]), new Map(), {
          ...s,
          registry,
          log,
        }),
        (e: unknown) =>
          e instanceof EngineError && e.code === EngineErrorCode.Mount && /symbolic link/.test(e.message),
        name,
      );
    }
    assert.equal(isMountPoint(join(host, 'z')), false);
    assert.equal(existsSync(join(host, 'z')), false, 'no mount point made on the host');
    assert.equal(existsSync(join(s.root, 'x')), false);
  });
});
