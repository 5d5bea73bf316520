/**
 * What a stage receives: OSBuild's arguments file, read from `/run/osbuild/api/arguments`. Paths in
 * it are already re-rooted into the sandbox by the engine.
 */
import { readFileSync } from 'node:fs';

export const ARGUMENTS_PATH = '/run/osbuild/api/arguments';
export const META_PATH = '/run/osbuild/meta';

export interface InputArgument {
  path: string;
  /** `files` for org.osbuild.files: `{checksum or name: metadata}`; other inputs say their own. */
  data?: { files?: Record<string, Record<string, unknown>>; [key: string]: unknown };
}

export interface DeviceArgument {
  path: string;
  node?: { major: number; minor: number };
}

export interface StageArguments<Options = Record<string, unknown>> {
  tree: string;
  paths: { devices: string; inputs: string; mounts: string };
  options: Options;
  inputs: Record<string, InputArgument>;
  devices: Record<string, DeviceArgument>;
  mounts: Record<string, { path: string }>;
  meta: { id: string; 'source-epoch'?: number };
}

export function readArguments<Options>(path = ARGUMENTS_PATH): StageArguments<Options> {
  return JSON.parse(readFileSync(path, 'utf8')) as StageArguments<Options>;
}
