/**
 * A device type of a libdir, run as OSBuild's device services run (`osbuild/devices.py`): `open`
 * with `dev` (the stage's /dev, where it makes its node), `tree`, `parent` (the parent device's
 * path relative to /dev, or null) and the device's `options`; it answers `{path, node}`, `path`
 * relative to /dev. The module holds the device until it is stopped (its socket closed), which
 * `close()` does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '@debian-forge/manifest';
import { type FoundModule, type HostModules, startAndCall } from '../host-modules/index.ts';
import { inside } from '../paths.ts';
import { type DeviceContext, type DeviceHandle, deviceError } from './common.ts';

function isNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export async function openExternalDevice(
  name: string,
  device: Device,
  parent: DeviceHandle | undefined,
  module: FoundModule & { modules: HostModules },
  ctx: DeviceContext,
): Promise<DeviceHandle> {
  let started: Awaited<ReturnType<typeof startAndCall>>;
  try {
    started = await startAndCall(
      module.modules,
      module,
      {
        id: `device/${name}`,
        method: 'open',
        args: { dev: ctx.devDir, tree: ctx.tree, parent: parent?.relpath ?? null, options: device.options },
      },
      ctx.log,
    );
  } catch (err) {
    throw deviceError(name, (err as Error).message, err);
  }
  const { reply, service } = started;
  const close = () => service.stop();
  const r = reply as { path?: unknown; node?: { major?: unknown; minor?: unknown } } | null;
  const relpath = r?.path;
  const major = r?.node?.major;
  const minor = r?.node?.minor;
  try {
    if (typeof relpath !== 'string' || !isNumber(major) || !isNumber(minor))
      throw deviceError(name, `${module.exe} answered open without {path, node: {major, minor}}`);
    const inDev = inside(ctx.devDir, relpath, { what: 'device path', relative: true }, (message, cause) =>
      deviceError(name, `${module.exe} answered the path ${relpath}: ${message}`, cause),
    );
    // As OSBuild's mounts: the host's own node when it has one (tools canonicalise mount sources).
    const onHost = join('/dev', relpath);
    const path = existsSync(onHost) ? onHost : inDev;
    return { name, path, relpath, node: { major, minor }, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
