/**
 * `org.osbuild.noop` (OSBuild's `inputs/org.osbuild.noop`): an empty directory; `data.refs` lists the references.
 */
import { input as inputSchema } from '../module-schema.ts';
import type { InputModule } from './common.ts';

export default {
  type: 'org.osbuild.noop',
  schema2: inputSchema('org.osbuild.noop', ['org.osbuild.source', 'org.osbuild.pipeline']),
  map: async (input, { sandboxDir }) => ({
    path: sandboxDir,
    data: { refs: Object.fromEntries(input.refs) },
  }),
} satisfies InputModule;
