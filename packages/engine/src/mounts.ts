/**
 * Mounts of a stage, made on the host before the stage runs (OSBuild's mount services,
 * `osbuild/mounts.py` and `mounts/org.osbuild.*`). File systems are mounted below `root`, the
 * directory the sandbox sees as /run/osbuild/mounts.
 *
 * `partition: N` mounts the Nth partition of the device. Where the kernel made a node for it
 * (`/dev/loop3p2`) that node is used; where it parses no partition tables (this project's build
 * machines have no CONFIG_EFI_PARTITION / CONFIG_MSDOS_PARTITION), the table is read with
 * `sfdisk --json` and a loop device is stacked on the device at the partition's offset and size.
 *
 * Every mount point (and every such partition loop device) is recorded in the `ResourceRegistry`
 * before it is created, so a killed engine's mounts are released by the next one.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { which } from '@debian-forge/host';
import type { Mount } from '@debian-forge/manifest';
import { pyDumpsMember, pyTruthy } from '@debian-forge/manifest';
import type { DeviceHandle } from './devices.ts';
import { attachLoop, detachLoop, type LoopDevice } from './devices.ts';
import { EngineError, EngineErrorCode } from './errors.ts';
import { run } from './exec.ts';
import { closeInReverse, openInOrder } from './handles.ts';
import type { MountContext, MountHandle } from './mount-handle.ts';
import { mountDeployment, OSTREE_DEPLOYMENT_MOUNT } from './mounts-ostree.ts';
import { inside } from './paths.ts';
import { isMountPoint, type ResourceRegistry, unmount } from './resources.ts';

/** Mount types backed by a kernel file system, and that file system's name. */
export const FILESYSTEM_MOUNTS: Readonly<Record<string, string>> = {
  'org.osbuild.ext4': 'ext4',
  'org.osbuild.xfs': 'xfs',
  'org.osbuild.btrfs': 'btrfs',
  'org.osbuild.fat': 'vfat',
};

const OTHER_MOUNTS = ['org.osbuild.noop', 'org.osbuild.bind', OSTREE_DEPLOYMENT_MOUNT];

/**
 * Mounts in order. If one fails, those mounted before it are unmounted again and the error is thrown.
 */
export function mountAll(
  mounts: Map<string, Mount>,
  devices: Map<string, DeviceHandle>,
  ctx: MountContext,
): Promise<Map<string, MountHandle>> {
  return openInOrder(mounts, (name, mount) => mountOne(name, mount, devices, ctx), ctx.log, 'mount');
}

/** Unmounts in reverse order; errors are logged, and the first one is thrown at the end. */
export function unmountAll(handles: Map<string, MountHandle>, log: (line: string) => void): Promise<void> {
  return closeInReverse(handles, log, 'mount');
}

function mountError(name: string, message: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.Mount, `mount ${name}: ${message}`, cause ? { cause } : undefined);
}

async function mountOne(
  name: string,
  mount: Mount,
  devices: Map<string, DeviceHandle>,
  ctx: MountContext,
): Promise<MountHandle> {
  const fstype = FILESYSTEM_MOUNTS[mount.type];
  if (fstype) return mountFilesystem(name, mount, fstype, devices, ctx);
  if (mount.type === 'org.osbuild.noop') {
    const path = mountPoint(name, mount.target, ctx.root);
    mkdirSync(path, { recursive: true });
    return { name, path, close: async () => {} };
  }
  if (mount.type === 'org.osbuild.bind') return mountBind(name, mount, ctx);
  if (mount.type === OSTREE_DEPLOYMENT_MOUNT) return mountDeployment(name, mount, ctx);
  const known = [...Object.keys(FILESYSTEM_MOUNTS), ...OTHER_MOUNTS].join(', ');
  throw mountError(name, `unsupported mount type ${mount.type} (supported: ${known})`);
}

/**
 * `root` joined with the target; '/' or no target means `root` itself. mount(8) follows links: one
 * in a file system mounted before (a disk image's `/boot` → `/`) must not put a mount on the host.
 */
function mountPoint(name: string, target: string | null, root: string): string {
  return inside(root, target ?? '', { what: 'target', relative: true }, (message, cause) =>
    mountError(name, `${message}: it lies outside the mount root`, cause),
  );
}

/** OSBuild's option translation (`FileSystemMountService.translate_options`). */
export function mountOptions(options: Record<string, unknown> | null): string[] {
  const opts: string[] = [];
  const o = options ?? {};
  const text = (key: string): string => {
    const v = o[key];
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (v === null) return 'None';
    return pyDumpsMember(o, key);
  };
  if (pyTruthy(o.readonly)) opts.push('ro');
  if (pyTruthy(o.norecovery)) opts.push('norecovery');
  for (const key of ['uid', 'gid', 'umask', 'shortname', 'subvol', 'compress']) {
    if (Object.hasOwn(o, key)) opts.push(`${key}=${text(key)}`);
  }
  return opts.length > 0 ? ['-o', opts.join(',')] : [];
}

/** Whether the running kernel knows the file system, per /proc/filesystems. */
function kernelHas(fstype: string): boolean {
  const text = readFileSync('/proc/filesystems', 'utf8');
  return text.split('\n').some((line) => line.split('\t').pop()?.trim() === fstype);
}

async function ensureFilesystem(
  name: string,
  type: string,
  fstype: string,
  log: (line: string) => void,
): Promise<void> {
  if (kernelHas(fstype)) return;
  const modprobe = which('modprobe');
  if (modprobe) {
    try {
      await run([modprobe, fstype]);
    } catch (e) {
      log(`modprobe ${fstype} failed: ${(e as Error).message}`);
    }
    if (kernelHas(fstype)) return;
  }
  throw new EngineError(
    EngineErrorCode.Mount,
    `mount ${name}: the kernel of this machine cannot mount ${fstype} (${type})` +
      `: it is not in /proc/filesystems${modprobe ? ' and modprobe could not load it' : ' and there is no modprobe to load it'}`,
  );
}

async function mountFilesystem(
  name: string,
  mount: Mount,
  fstype: string,
  devices: Map<string, DeviceHandle>,
  ctx: MountContext,
): Promise<MountHandle> {
  await ensureFilesystem(name, mount.type, fstype, ctx.log);
  if (!mount.device) throw mountError(name, `${mount.type} needs a source device`);
  const device = devices.get(mount.device.name);
  if (!device) throw mountError(name, `device ${mount.device.name} is not open`);
  const path = mountPoint(name, mount.target, ctx.root);

  let source = device.path;
  let partLoop: LoopDevice | undefined;
  // As OSBuild: partition 0 (like no partition) means the whole device.
  if (mount.partition) {
    const node = `${device.path}p${mount.partition}`;
    if (isBlockDevice(node)) {
      source = node;
    } else {
      partLoop = await partitionLoop(name, device.path, mount.partition, ctx.registry);
      source = partLoop.path;
      ctx.log(`partition ${mount.partition} of ${device.path} attached as ${partLoop.path}`);
    }
  }

  const releasePartLoop = async () => {
    if (partLoop) await detachLoop(partLoop, ctx.registry, { log: ctx.log });
  };

  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    await releasePartLoop();
    throw mountError(name, `cannot create the mount point ${path}: ${(e as Error).message}`, e);
  }
  ctx.log(`mounting ${source} -> ${path}`);
  ctx.registry.addMount(path);
  try {
    await run(['mount', '-t', fstype, ...mountOptions(mount.options), '--source', source, '--target', path]);
  } catch (e) {
    ctx.registry.removeMount(path);
    await releasePartLoop().catch(() => {});
    throw mountError(name, `cannot mount ${source} (${fstype}) on ${path}: ${(e as Error).message}`, e);
  }

  return {
    name,
    path,
    close: once(async () => {
      if (isMountPoint(path)) {
        try {
          await run(['sync', '--file-system', path]);
        } catch (e) {
          ctx.log(`sync of ${path} failed: ${(e as Error).message}`);
        }
        await unmount(path, { log: ctx.log });
      }
      ctx.registry.removeMount(path);
      await releasePartLoop();
    }),
  };
}

function isBlockDevice(path: string): boolean {
  try {
    return statSync(path).isBlockDevice();
  } catch {
    return false;
  }
}

interface SfdiskTable {
  partitiontable?: {
    device?: string;
    sectorsize?: number;
    partitions?: { node: string; start: number; size: number }[];
  };
}

/** Reads the partition table of `device` and binds a loop device to partition `number`. */
async function partitionLoop(
  name: string,
  device: string,
  number: number,
  registry: ResourceRegistry,
): Promise<LoopDevice> {
  let table: SfdiskTable;
  try {
    table = JSON.parse((await run(['sfdisk', '--json', device])).stdout) as SfdiskTable;
  } catch (e) {
    const message = (e as Error).message;
    if (/does not contain a recognized partition table/.test(message)) {
      throw mountError(name, `${device} has no partition table, so no partition ${number}`, e);
    }
    throw mountError(
      name,
      `cannot read the partition table of ${device} (for partition ${number}): ${message}`,
      e,
    );
  }
  const pt = table.partitiontable;
  const sectorSize = pt?.sectorsize ?? 512;
  const partitions = (pt?.partitions ?? []).map((p) => {
    // sfdisk names partitions like the kernel does: /dev/loop3p2, disk.img2.
    const m = /(\d+)$/.exec(p.node.slice((pt?.device ?? '').length));
    return { number: m ? Number(m[1]) : Number.NaN, start: p.start, size: p.size };
  });
  const part = partitions.find((p) => p.number === number);
  if (!part) {
    const have = partitions.map((p) => p.number).join(', ') || 'none';
    throw mountError(name, `${device} has no partition ${number} (partitions: ${have})`);
  }
  return attachLoop(device, {
    offset: part.start * sectorSize,
    sizelimit: part.size * sectorSize,
    sectorSize,
    registry,
    label: `mount ${name}`,
  });
}

/** A `tree://…` or `mount://…` location (a plain path means `tree://`), as a host path. */
function resolveLocation(name: string, location: string, ctx: MountContext): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(location);
  const scheme = m ? m[1] : 'tree';
  const rel = m ? join(m[2] ?? '', m[3] ?? '') : location;
  let base: string;
  if (scheme === 'tree') base = ctx.tree;
  else if (scheme === 'mount') base = ctx.root;
  else throw mountError(name, `unsupported location scheme ${scheme}:// in ${location}`);
  return inside(base, rel, { what: 'location', relative: true }, (message, cause) =>
    mountError(name, `${location} lies outside its root: ${message}`, cause),
  );
}

/** `org.osbuild.bind`: a recursive bind mount of `options.source` onto the target. */
async function mountBind(name: string, mount: Mount, ctx: MountContext): Promise<MountHandle> {
  const sourceLocation = mount.options?.source;
  if (typeof sourceLocation !== 'string') throw mountError(name, 'org.osbuild.bind needs options.source');
  const source = resolveLocation(name, sourceLocation, ctx);
  if (!existsSync(source))
    throw mountError(name, `the bind source ${sourceLocation} (${source}) does not exist`);
  const target = mount.target?.includes('://')
    ? resolveLocation(name, mount.target, ctx)
    : mountPoint(name, mount.target, ctx.root);
  if (!existsSync(target)) {
    if (statSync(source).isDirectory()) mkdirSync(target, { recursive: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, '');
    }
  }
  ctx.log(`bind-mounting ${source} -> ${target}`);
  ctx.registry.addMount(target);
  try {
    await run(['mount', '--rbind', source, target]);
  } catch (e) {
    ctx.registry.removeMount(target);
    throw mountError(name, `cannot bind-mount ${source} on ${target}: ${(e as Error).message}`, e);
  }
  return {
    name,
    path: target,
    close: once(async () => {
      await unmount(target, { log: ctx.log, recursive: true });
      ctx.registry.removeMount(target);
    }),
  };
}

/** Runs `fn` once; if it fails, the next call runs it again. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn().catch((e) => {
      running = undefined;
      throw e;
    });
    return running;
  };
}
