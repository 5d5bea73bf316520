/**
 * `org.osbuild.tree` (OSBuild's `inputs/org.osbuild.tree`): a pipeline's whole tree, bound read-only into the sandbox.
 */
import { EngineError, EngineErrorCode } from '../errors.ts';
import { input as inputSchema, references } from '../module-schema.ts';
import type { InputModule } from './common.ts';

export default {
  type: 'org.osbuild.tree',
  schema2: inputSchema('org.osbuild.tree', ['org.osbuild.pipeline'], references({ min: 1, max: 1 })),
  map: async (input, { sandboxDir }, ctx, binds) => {
    const [ref] = [...input.refs.keys()];
    const obj = ref && ref !== 'null' ? await ctx.pipeline(ref) : undefined;
    if (!obj)
      throw new EngineError(EngineErrorCode.Input, `input '${input.name}': unknown pipeline '${ref ?? ''}'`);
    binds.push([obj.tree, sandboxDir]);
    return { path: sandboxDir };
  },
} satisfies InputModule;
