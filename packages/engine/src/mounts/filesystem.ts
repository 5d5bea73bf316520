/**
 * The mounts backed by a kernel file system (OSBuild's `FileSystemMountService`): ext4, xfs, btrfs and
 * fat share their options, their schema and this code; each type's file names its file system.
 *
 * `partition: N` mounts the Nth partition of the device. Where the kernel made a node for it
 * (`/dev/loop3p2`) that node is used; where it parses no partition tables (this project's build
 * machines have no CONFIG_EFI_PARTITION / CONFIG_MSDOS_PARTITION), the table is read with
 * `sfdisk --json` and a loop device is stacked on the device at the partition's offset and size.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { which } from '@debian-forge/host';
import type { Mount } from '@debian-forge/manifest';
import { pyDumpsMember, pyTruthy } from '@debian-forge/manifest';
import { isMountPoint, type ResourceRegistry, unmount } from '../crash-registry.ts';
import type { DeviceHandle } from '../devices/index.ts';
import { attachLoop, detachLoop, type LoopDevice } from '../devices/loop.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { run } from '../exec.ts';
import { options } from '../module-schema.ts';
import {
  type MountContext,
  type MountHandle,
  type MountModule,
  mountError,
  mountPoint,
  once,
} from './common.ts';

/** `schema_2` of a file system mount; `extra` are the options of that file system. */
function fsMount(extra: Record<string, unknown> = {}) {
  return {
    additionalProperties: false,
    required: ['name', 'type', 'source', 'target'],
    properties: {
      name: { type: 'string' },
      type: { type: 'string' },
      source: { type: 'string' },
      partition: { type: 'number' },
      target: { type: 'string' },
      options: options({ readonly: { type: 'boolean' }, norecovery: { type: 'boolean' }, ...extra }),
    },
  };
}

/** The mount type `type` of the kernel file system `fstype`, taking `extra` options besides the common ones. */
export function filesystemMount(type: string, fstype: string, extra?: Record<string, unknown>): MountModule {
  return {
    type,
    schema2: fsMount(extra),
    mount: (name, mount, devices, ctx) => mountFilesystem(name, mount, fstype, devices, ctx),
  };
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
