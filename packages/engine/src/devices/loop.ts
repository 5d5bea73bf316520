/**
 * Loop devices bound and released on the host, recorded in the `ResourceRegistry` before `losetup`
 * binds them, so a killed engine's loop devices are detached by the next one. Used by the loopback
 * device and by file system mounts of a partition the kernel made no node for.
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { canonicalPath, type ResourceRegistry } from '../crash-registry.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { run } from '../exec.ts';

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

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
export function nodeNumbers(relpath: string, path: string): { major: number; minor: number } {
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
  return splitDeviceNumber(statSync(path).rdev);
}

/** Linux's split of a device number into major and minor (glibc's `major`/`minor`). */
export function splitDeviceNumber(rdev: number): { major: number; minor: number } {
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}
