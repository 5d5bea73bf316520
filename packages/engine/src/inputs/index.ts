/**
 * Inputs, mapped for one stage as OSBuild's input services map them: each input gets a directory
 * `/run/osbuild/inputs/<name>` in the sandbox and an entry in the stage's arguments.
 * Each input type is one file here, named after the type, holding its schema and its code; other
 * types run as a libdir's host module (external.ts).
 * Trees and pipeline files are bound read-only into the sandbox by bwrap rather than mounted on
 * the host, so nothing is left mounted whatever happens to the engine.
 */
import { mkdirSync } from 'node:fs';
import type { Input } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { inside } from '../paths.ts';
import { type InputContext, type InputModule, inputError, type MappedInputs } from './common.ts';
import files from './org.osbuild.files.ts';
import noop from './org.osbuild.noop.ts';
import ostreeCheckout from './org.osbuild.ostree.checkout.ts';
import ostree from './org.osbuild.ostree.ts';
import tree from './org.osbuild.tree.ts';

export type { InputContext, InputModule, MappedInputs } from './common.ts';

export const INPUTS_IN_SANDBOX = '/run/osbuild/inputs';

/** The input types, by OSBuild name. */
export const INPUT_TYPES: ReadonlyMap<string, InputModule> = new Map(
  [files, tree, noop, ostree, ostreeCheckout].map((m) => [m.type, m]),
);

export async function mapInputs(inputs: Map<string, Input>, ctx: InputContext): Promise<MappedInputs> {
  const out: MappedInputs = { args: {}, binds: [] };
  mkdirSync(ctx.inputsDir, { recursive: true });
  for (const [name, input] of inputs) {
    const hostDir = inside(ctx.inputsDir, name, { what: 'input name' }, inputError(name));
    const sandboxDir = `${INPUTS_IN_SANDBOX}/${name}`;
    mkdirSync(hostDir, { recursive: true });
    const module = INPUT_TYPES.get(input.type);
    if (!module && ctx.external?.has(input.type)) {
      out.args[name] = await ctx.external.map(input, { hostDir, sandboxDir }, ctx);
      continue;
    }
    if (!module)
      throw new EngineError(EngineErrorCode.Input, `input '${name}': unsupported input type ${input.type}`);
    out.args[name] = await module.map(input, { hostDir, sandboxDir }, ctx, out.binds);
  }
  return out;
}
