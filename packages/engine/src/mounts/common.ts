/**
 * What every mount type shares: the handle it returns, the context it gets, its module (the type
 * name, the options schema OSBuild's manifest validation checks, and the code), and the mount point
 * below the mount root.
 */
import type { Mount } from '@debian-forge/manifest';
import type { ResourceRegistry } from '../crash-registry.ts';
import type { DeviceHandle } from '../devices/index.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import type { HostModules } from '../host-modules/index.ts';
import { inside } from '../paths.ts';

export interface MountHandle {
  /** The mount's name in the stage. */
  name: string;
  /** Host path of the mount point. */
  path: string;
  /** The stage gets no path for it (`{}` in its arguments), as OSBuild's deployment mount. */
  hidden?: boolean;
  /** Syncs and unmounts (lazily if it stays busy); idempotent. */
  close(): Promise<void>;
}

export interface MountContext {
  /** The directory the sandbox sees as /run/osbuild/mounts. */
  root: string;
  /** The pipeline's tree (for `tree://` locations of bind mounts). */
  tree: string;
  registry: ResourceRegistry;
  log(line: string): void;
  /** Mount types of the libdirs, for a type the engine has no module for; none: only the engine's. */
  hostModules?: HostModules;
}

/** A mount type: its OSBuild name, its `schema_2`, and how it mounts. */
export interface MountModule {
  type: string;
  /** `schema_2` of the module, as OSBuild's `mounts/<type>` declares it; none: the index does not know it. */
  schema2?: Record<string, unknown>;
  mount(
    name: string,
    mount: Mount,
    devices: Map<string, DeviceHandle>,
    ctx: MountContext,
  ): Promise<MountHandle>;
}

export function mountError(name: string, message: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.Mount, `mount ${name}: ${message}`, cause ? { cause } : undefined);
}

/**
 * `root` joined with the target; '/' or no target means `root` itself. mount(8) follows links: one
 * in a file system mounted before (a disk image's `/boot` → `/`) must not put a mount on the host.
 */
export function mountPoint(name: string, target: string | null, root: string): string {
  return inside(root, target ?? '', { what: 'target', relative: true }, (message, cause) =>
    mountError(name, `${message}: it lies outside the mount root`, cause),
  );
}

/** Runs `fn` once; if it fails, the next call runs it again. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn().catch((e) => {
      running = undefined;
      throw e;
    });
    return running;
  };
}
