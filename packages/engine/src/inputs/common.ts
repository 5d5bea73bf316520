/** What every input type shares: the context it gets, the argument it gives the stage, and its module. */
import type { Input } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from '../errors.ts';
import type { TreeObject } from '../store.ts';

export interface MappedInputs {
  /** `args.inputs` of the stage, paths already as the sandbox sees them. */
  args: Record<string, { path: string; data?: Record<string, unknown> }>;
  /** Read-only binds (host path → sandbox path) that bring pipeline trees and files in. */
  binds: [string, string][];
}

export interface InputContext {
  /** Host directory bound as /run/osbuild/inputs. */
  inputsDir: string;
  /** STORE/sources. */
  sourcesDir: string;
  /** A built pipeline's object, by pipeline id. */
  pipeline(id: string): Promise<TreeObject | undefined>;
  /** Input types of the libdirs, for a type the engine has no module for; none: only the engine's. */
  external?: {
    has(type: string): boolean;
    map(input: Input, place: InputPlace, ctx: InputContext): Promise<InputArgument>;
  };
}

/** An input's entry in the stage's arguments, its path as the sandbox sees it. */
export type InputArgument = MappedInputs['args'][string];

/** Where an input goes: its directory on the host and the path the sandbox sees it at. */
export interface InputPlace {
  hostDir: string;
  sandboxDir: string;
}

/** An input type: its OSBuild name, its `schema_2` (as OSBuild's `inputs/<type>` declares it), and how it maps. */
export interface InputModule {
  type: string;
  schema2: Record<string, unknown>;
  /** Fills the input's host directory and gives its argument; binds that bring files in go to `binds`. */
  map(
    input: Input,
    place: InputPlace,
    ctx: InputContext,
    binds: MappedInputs['binds'],
  ): Promise<InputArgument>;
}

export function inputError(name: string) {
  return (message: string, cause: unknown) =>
    new EngineError(EngineErrorCode.Input, `input '${name}': ${message}`, { cause });
}
