/**
 * Devices of a stage, opened on the host before the stage runs (OSBuild's device services,
 * `osbuild/devices.py`). Each device type is one file here, named after the type, holding its
 * schema and its code; the one type is `org.osbuild.loopback`. Other types run as a libdir's host
 * module (external.ts).
 */
import type { Device } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { closeInReverse, openInOrder } from '../handles.ts';
import type { DeviceContext, DeviceHandle, DeviceModule } from './common.ts';
import { openExternalDevice } from './external.ts';
import loopback from './org.osbuild.loopback.ts';

export type { DeviceContext, DeviceHandle, DeviceModule } from './common.ts';

/** The device types, by OSBuild name. */
export const DEVICE_TYPES: ReadonlyMap<string, DeviceModule> = new Map([loopback].map((m) => [m.type, m]));

/**
 * Opens the devices in order (parents first: the map is ordered so). If one fails, those opened
 * before it are closed again and the error is thrown.
 */
export function openDevices(
  devices: Map<string, Device>,
  ctx: DeviceContext,
): Promise<Map<string, DeviceHandle>> {
  return openInOrder(
    devices,
    (name, device, opened) => openDevice(name, device, opened, ctx),
    ctx.log,
    'device',
  );
}

/** Closes devices in reverse order; errors are logged, and the first one is thrown at the end. */
export function closeDevices(handles: Map<string, DeviceHandle>, log: (line: string) => void): Promise<void> {
  return closeInReverse(handles, log, 'device');
}

async function openDevice(
  name: string,
  device: Device,
  opened: ReadonlyMap<string, DeviceHandle>,
  ctx: DeviceContext,
): Promise<DeviceHandle> {
  const module = DEVICE_TYPES.get(device.type);
  const external = module ? undefined : ctx.hostModules?.find('Device', device.type);
  if (external && ctx.hostModules) {
    const parent = device.parent ? opened.get(device.parent.name) : undefined;
    return openExternalDevice(name, device, parent, { ...external, modules: ctx.hostModules }, ctx);
  }
  if (!module) {
    throw new EngineError(
      EngineErrorCode.Device,
      `device ${name}: unsupported device type ${device.type} (supported: ${[...DEVICE_TYPES.keys()].join(', ')})`,
    );
  }
  return module.open(name, device, ctx);
}
