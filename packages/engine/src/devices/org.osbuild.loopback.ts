/**
 * `org.osbuild.loopback` (OSBuild's `devices/org.osbuild.loopback`): a file of the tree, or a slice
 * of it, bound to a loop device whose node is then created in the directory the sandbox gets as /dev.
 */
import { existsSync, lstatSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '@debian-forge/manifest';
import { pyRepr } from '@debian-forge/manifest';
import { run } from '../exec.ts';
import { options as optionsSchema } from '../module-schema.ts';
import { inside } from '../paths.ts';
import { type DeviceContext, type DeviceHandle, type DeviceModule, deviceError } from './common.ts';
import { attachLoop, detachLoop, nodeNumbers } from './loop.ts';

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

export default {
  type: 'org.osbuild.loopback',
  schema2: optionsSchema(
    {
      filename: { type: 'string' },
      partscan: { type: 'boolean' },
      start: { type: 'number' },
      size: { type: 'number' },
      'sector-size': { type: 'number' },
      lock: { type: 'boolean' },
      'read-only': { type: 'boolean' },
    },
    ['filename'],
  ),
  open: openLoopback,
} satisfies DeviceModule;
