/**
 * A mount type of a libdir, run as OSBuild's mount services run (`osbuild/mounts.py`): `mount`
 * with `source` (the device's path, `p<partition>` appended for a partition), `target`, `root`
 * (the directory the sandbox sees as /run/osbuild/mounts), `tree` and the mount's `options`; it
 * answers the mount point, which must lie in `root`, or nothing (the stage then gets `{}`). The
 * module unmounts when it is stopped (its socket closed), which `close()` does.
 */
import type { Mount } from '@debian-forge/manifest';
import type { DeviceHandle } from '../devices/index.ts';
import { type FoundModule, type HostModules, startAndCall } from '../host-modules/index.ts';
import { inside } from '../paths.ts';
import { type MountContext, type MountHandle, mountError } from './common.ts';

export async function mountExternal(
  name: string,
  mount: Mount,
  devices: Map<string, DeviceHandle>,
  module: FoundModule & { modules: HostModules },
  ctx: MountContext,
): Promise<MountHandle> {
  const device = mount.device ? devices.get(mount.device.name) : undefined;
  if (mount.device && !device) throw mountError(name, `device ${mount.device.name} is not open`);
  const source = device ? `${device.path}${mount.partition ? `p${mount.partition}` : ''}` : null;
  let started: Awaited<ReturnType<typeof startAndCall>>;
  try {
    started = await startAndCall(
      module.modules,
      module,
      {
        id: `mount/${name}`,
        method: 'mount',
        args: { source, target: mount.target, root: ctx.root, tree: ctx.tree, options: mount.options },
      },
      ctx.log,
    );
  } catch (err) {
    throw mountError(name, (err as Error).message, err);
  }
  const { reply, service } = started;
  const close = () => service.stop();
  if (!reply) return { name, path: ctx.root, hidden: true, close };
  try {
    if (typeof reply !== 'string' || (reply !== ctx.root && !reply.startsWith(`${ctx.root}/`)))
      throw mountError(
        name,
        `${module.exe} answered the mount point ${JSON.stringify(reply)}, not one in ${ctx.root}`,
      );
    const path = inside(
      ctx.root,
      reply.slice(ctx.root.length),
      { what: 'mount point', relative: true },
      (m, c) => mountError(name, m, c),
    );
    return { name, path, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
