/**
 * Mounts of a stage, made on the host before the stage runs (OSBuild's mount services,
 * `osbuild/mounts.py` and `mounts/org.osbuild.*`). File systems are mounted below `root`, the
 * directory the sandbox sees as /run/osbuild/mounts.

 *
 * Each mount type is one file here, named after the type, holding its schema and its code. Other
 * types run as a libdir's host module (external.ts).
 *
 * Every mount point (and every such partition loop device) is recorded in the `ResourceRegistry`
 * before it is created, so a killed engine's mounts are released by the next one.
 */
import type { Mount } from '@debian-forge/manifest';
import type { DeviceHandle } from '../devices/index.ts';
import { closeInReverse, openInOrder } from '../handles.ts';
import { type MountContext, type MountHandle, type MountModule, mountError } from './common.ts';
import { mountExternal } from './external.ts';
import bind from './org.osbuild.bind.ts';
import btrfs from './org.osbuild.btrfs.ts';
import ext4 from './org.osbuild.ext4.ts';
import fat from './org.osbuild.fat.ts';
import noop from './org.osbuild.noop.ts';
import deployment from './org.osbuild.ostree.deployment.ts';
import xfs from './org.osbuild.xfs.ts';

export type { MountContext, MountHandle, MountModule } from './common.ts';
export { mountOptions } from './filesystem.ts';

/** The mount types, by OSBuild name. */
export const MOUNT_TYPES: ReadonlyMap<string, MountModule> = new Map(
  [ext4, xfs, btrfs, fat, noop, bind, deployment].map((m) => [m.type, m]),
);

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

async function mountOne(
  name: string,
  mount: Mount,
  devices: Map<string, DeviceHandle>,
  ctx: MountContext,
): Promise<MountHandle> {
  const module = MOUNT_TYPES.get(mount.type);
  const external = module ? undefined : ctx.hostModules?.find('Mount', mount.type);
  if (external && ctx.hostModules)
    return mountExternal(name, mount, devices, { ...external, modules: ctx.hostModules }, ctx);
  if (!module) {
    const known = [...MOUNT_TYPES.keys()].join(', ');
    throw mountError(name, `unsupported mount type ${mount.type} (supported: ${known})`);
  }
  return module.mount(name, mount, devices, ctx);
}
