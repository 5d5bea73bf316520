/** What every device type shares: the handle it returns, the context it gets, and its module. */
import type { Device } from '@debian-forge/manifest';
import type { ResourceRegistry } from '../crash-registry.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import type { HostModules } from '../host-modules/index.ts';

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
  /** Device types of the libdirs, for a type the engine has no module for; none: only the engine's. */
  hostModules?: HostModules;
  /** How long `close()` waits for a busy loop device to let go, in milliseconds (default 30 s, as OSBuild). */
  detachTimeoutMs?: number;
}

/** A device type: its OSBuild name, its `schema_2` (as OSBuild's `devices/<type>` declares it), and how it opens. */
export interface DeviceModule {
  type: string;
  schema2: Record<string, unknown>;
  open(name: string, device: Device, ctx: DeviceContext): Promise<DeviceHandle>;
}

export function deviceError(name: string, message: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.Device, `device ${name}: ${message}`, cause ? { cause } : undefined);
}
