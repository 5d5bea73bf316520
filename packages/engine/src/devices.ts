/**
 * Devices of a stage, opened on the host before the stage runs (OSBuild's device services,
 * `osbuild/devices.py`). The one device type is `org.osbuild.loopback` (`devices/org.osbuild.loopback`):
 * a file of the tree, or a slice of it, bound to a loop device whose node is then created in the
 * directory the sandbox gets as /dev.
 *
 * Every loop device is recorded in the `ResourceRegistry` before `losetup` binds it, so a killed
 * engine's devices are detached by the next one.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import type { Device } from '@debian-forge/manifest';
import { pyRepr } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from './errors.ts';
import { run } from './exec.ts';
import { closeInReverse, openInOrder } from './handles.ts';
import { inside } from './paths.ts';
import { canonicalPath, type ResourceRegistry } from './resources.ts';

export interface DeviceHandle {
  /** The device's name in the stage (the key under `devices`). */
  name: string;
  /** Host path of the device, e.g. `/dev/loop3`. */
  path: string;
  /** Path relative to the device directory, e.g. `loop3`; the sandbox sees `/dev/<relpath>`. */
  relpath: string;
  node: { major: number; minor: number };
  /** Syncs and detaches the device, waiting while it is busy; idempotent. */
  close(): Promise<void>;
}

export interface DeviceContext {
  /** The tree of the pipeline; `filename` options are relative to it. */
  tree: string;
  /** The directory the sandbox gets as /dev; device nodes are created in it. */
  devDir: string;
  registry: ResourceRegistry;
  log(line: string): void;
  /** How long `close()` waits for a busy loop device to let go, in milliseconds (default 30 s, as OSBuild). */
  detachTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Opens the devices in order (parents first: the map is ordered so). If one fails, those opened
 * before it are closed again and the error is thrown.
 */
export function openDevices(
  devices: Map<string, Device>,
  ctx: DeviceContext,
): Promise<Map<string, DeviceHandle>> {
  return openInOrder(devices, (name, device) => openDevice(name, device, ctx), ctx.log, 'device');
}

/** Closes devices in reverse order; errors are logged, and the first one is thrown at the end. */
export function closeDevices(handles: Map<string, DeviceHandle>, log: (line: string) => void): Promise<void> {
  return closeInReverse(handles, log, 'device');
}

async function openDevice(name: string, device: Device, ctx: DeviceContext): Promise<DeviceHandle> {
  switch (device.type) {
    case 'org.osbuild.loopback':
      return openLoopback(name, device, ctx);
    default:
      throw new EngineError(
        EngineErrorCode.Device,
        `device ${name}: unsupported device type ${device.type} (supported: org.osbuild.loopback)`,
      );
  }
}

function deviceError(name: string, message: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.Device, `device ${name}: ${message}`, cause ? { cause } : undefined);
}

/** A non-negative integer option (JSON numbers like `2048.0` count as integers, as in Python arithmetic). */
function intOption(name: string, options: Record<string, unknown>, key: string): number | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw deviceError(name, `option ${key} must be a non-negative integer, got ${pyRepr(value)}`);
  }
  return n;
}

async function openLoopback(name: string, device: Device, ctx: DeviceContext): Promise<DeviceHandle> {
  const options = device.options;
  const filename = options.filename;
  if (typeof filename !== 'string' || filename === '') throw deviceError(name, 'option filename is required');
  // losetup opens what the path leads to: a link in the tree must not attach a host file.
  const file = inside(ctx.tree, filename, { what: 'filename', relative: true }, (message, cause) =>
    deviceError(name, `${message}: it lies outside the tree`, cause),
  );
  let fileSize: number;
  try {
    fileSize = statSync(file).size;
  } catch (e) {
    throw deviceError(name, `cannot open ${filename}: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  const sectorSize = intOption(name, options, 'sector-size') ?? 512;
  if (sectorSize === 0) throw deviceError(name, 'option sector-size must not be 0');
  const offset = (intOption(name, options, 'start') ?? 0) * sectorSize;
  const sizeSectors = intOption(name, options, 'size');
  if (offset > fileSize)
    throw deviceError(name, `start (${offset} bytes) lies beyond the end of ${filename} (${fileSize} bytes)`);
  // As OSBuild: a missing (or zero) size means the rest of the file.
  const sizelimit = sizeSectors ? sizeSectors * sectorSize : fileSize - offset;

  const loop = await attachLoop(file, {
    offset,
    sizelimit,
    sectorSize,
    readOnly: options['read-only'] === true,
    partscan: options.partscan === true,
    registry: ctx.registry,
    label: `device ${name}`,
  });
  // `lock` (OSBuild's udev inhibitor) has nothing to do here: no udev runs on the build host's loop devices.
  ctx.log(
    `${loop.path} acquired for ${filename} (offset ${offset}, size ${sizelimit}${options.lock ? ', lock requested' : ''})`,
  );

  const created: string[] = [];
  try {
    created.push(...(await makeNode(ctx.devDir, loop.relpath, loop.node)));
    if (options.partscan === true) {
      for (const part of partitionNodes(loop.relpath)) {
        created.push(...(await makeNode(ctx.devDir, part.relpath, part.node)));
      }
    }
  } catch (e) {
    removeNodes(created);
    await detachLoop(loop, ctx.registry, { timeoutMs: ctx.detachTimeoutMs, log: ctx.log }).catch(() => {});
    throw deviceError(
      name,
      `cannot create the device node in ${ctx.devDir}: ${e instanceof Error ? e.message : e}`,
      e,
    );
  }

  let closing: Promise<void> | undefined;
  return {
    name,
    path: loop.path,
    relpath: loop.relpath,
    node: loop.node,
    close() {
      closing ??= (async () => {
        removeNodes(created);
        await detachLoop(loop, ctx.registry, { timeoutMs: ctx.detachTimeoutMs, log: ctx.log });
        ctx.log(`${loop.path} released`);
      })().catch((e) => {
        closing = undefined; // a later close() tries again
        throw e;
      });
      return closing;
    },
  };
}

export interface LoopDevice {
  /** Host path, e.g. `/dev/loop3`. */
  path: string;
  relpath: string;
  node: { major: number; minor: number };
  /** Canonical path of the backing file (or block device). */
  backingFile: string;
  offset: number;
}

export interface AttachOptions {
  offset: number;
  /** Bytes; 0 means up to the end of the backing file. */
  sizelimit: number;
  sectorSize?: number;
  readOnly?: boolean;
  partscan?: boolean;
  registry: ResourceRegistry;
  /** Names the requester in errors (`device image`, `mount boot` …). */
  label: string;
}

/**
 * Binds a free loop device to `backing` (a file or a block device). The device is recorded in the
 * registry before it is bound; if binding fails the record is removed again.
 */
export async function attachLoop(backing: string, opts: AttachOptions): Promise<LoopDevice> {
  const backingFile = canonicalPath(backing);
  const flags = [
    '--offset',
    String(opts.offset),
    '--sizelimit',
    String(opts.sizelimit),
    ...(opts.sectorSize && opts.sectorSize !== 512 ? ['--sector-size', String(opts.sectorSize)] : []),
    ...(opts.readOnly ? ['--read-only'] : []),
    ...(opts.partscan ? ['--partscan'] : []),
  ];
  for (let attempt = 1; ; attempt++) {
    let path: string;
    try {
      path = (await run(['losetup', '--find'])).stdout.trim();
    } catch (e) {
      throw new EngineError(
        EngineErrorCode.Device,
        `${opts.label}: no free loop device: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    opts.registry.addLoop(path, backingFile, opts.offset);
    try {
      await run(['losetup', ...flags, path, backing]);
    } catch (e) {
      opts.registry.removeLoop(path);
      // Another process may have taken the same free device between `--find` and binding it.
      if (attempt < 10 && /busy/i.test((e as Error).message)) continue;
      throw new EngineError(
        EngineErrorCode.Device,
        `${opts.label}: cannot attach ${backing}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const relpath = basename(path);
    return { path, relpath, node: nodeNumbers(relpath, path), backingFile, offset: opts.offset };
  }
}

/** Where sysfs says `relpath` is bound now, or undefined when it is not bound. */
function boundTo(relpath: string): { backingFile: string; offset: number } | undefined {
  try {
    const backingFile = readFileSync(`/sys/block/${relpath}/loop/backing_file`, 'utf8').trim();
    const offset = Number(readFileSync(`/sys/block/${relpath}/loop/offset`, 'utf8').trim());
    return { backingFile: backingFile.replace(/ \(deleted\)$/, ''), offset };
  } catch {
    return undefined;
  }
}

function stillOurs(loop: LoopDevice): boolean {
  const now = boundTo(loop.relpath);
  return now !== undefined && now.backingFile === loop.backingFile && now.offset === loop.offset;
}

/**
 * Flushes the device's buffers, detaches it and waits until the kernel has really let go (a busy
 * device is only marked for auto-clearing by `losetup --detach`), then fsyncs the backing file and
 * removes the record. Throws if the device is still bound after `timeoutMs`; the record then stays.
 */
export async function detachLoop(
  loop: LoopDevice,
  registry: ResourceRegistry,
  opts: { timeoutMs?: number | undefined; log?: (line: string) => void } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (stillOurs(loop)) {
    try {
      await run(['blockdev', '--flushbufs', loop.path]);
    } catch (e) {
      opts.log?.(`could not flush ${loop.path}: ${(e as Error).message}`);
    }
  }
  const deadline = Date.now() + timeoutMs;
  let lastTry = 0;
  let lastError: unknown;
  while (stillOurs(loop)) {
    if (Date.now() - lastTry >= 1000) {
      lastTry = Date.now();
      try {
        await run(['losetup', '--detach', loop.path]);
      } catch (e) {
        lastError = e;
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new EngineError(
        EngineErrorCode.Device,
        `${loop.path} is still busy after ${Math.round(timeoutMs / 1000)} s${lastError ? `: ${(lastError as Error).message}` : ''}`,
      );
    }
    await sleep(100);
  }
  fsyncQuietly(loop.backingFile);
  registry.removeLoop(loop.path);
}

function fsyncQuietly(file: string): void {
  try {
    if (!statSync(file).isFile()) return;
    const fd = openSync(file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // the file is gone or not ours to sync
  }
}

/** Major and minor numbers of a block device, from sysfs (or from the node itself). */
function nodeNumbers(relpath: string, path: string): { major: number; minor: number } {
  try {
    const [major, minor] = readFileSync(`/sys/class/block/${relpath}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number);
    if (Number.isInteger(major) && Number.isInteger(minor))
      return { major: major as number, minor: minor as number };
  } catch {
    // fall back to the node
  }
  const rdev = statSync(path).rdev;
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

/** Partition nodes the kernel made for a loop device (`loop3p1` …); none where it parses no tables. */
function partitionNodes(relpath: string): { relpath: string; node: { major: number; minor: number } }[] {
  const parts: { relpath: string; node: { major: number; minor: number } }[] = [];
  for (const entry of readdirSync('/dev')) {
    if (!entry.startsWith(`${relpath}p`) || !/^\d+$/.test(entry.slice(relpath.length + 1))) continue;
    parts.push({ relpath: entry, node: nodeNumbers(entry, join('/dev', entry)) });
  }
  return parts;
}

/**
 * Creates the block device node `dir/relpath`. An existing node with the same numbers is kept (and
 * not removed later); anything else there is an error. Returns the paths it created.
 */
async function makeNode(
  dir: string,
  relpath: string,
  node: { major: number; minor: number },
): Promise<string[]> {
  const path = join(dir, relpath);
  if (existsSync(path)) {
    const st = lstatSync(path);
    const rdev = st.rdev;
    const same =
      st.isBlockDevice() &&
      ((rdev >> 8) & 0xfff) === node.major &&
      ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) === node.minor;
    if (same) return [];
    throw new Error(`${path} exists and is not block device ${node.major}:${node.minor}`);
  }
  await run(['mknod', '--mode=0600', path, 'b', String(node.major), String(node.minor)]);
  return [path];
}

function removeNodes(paths: string[]): void {
  for (const path of paths.splice(0).reverse()) {
    try {
      unlinkSync(path);
    } catch {
      // already gone (the device directory may have been removed first)
    }
  }
}
