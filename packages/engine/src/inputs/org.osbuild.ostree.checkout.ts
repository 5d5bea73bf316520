/**
 * `org.osbuild.ostree.checkout` (OSBuild's `inputs/org.osbuild.ostree.checkout`): each commit, from where `commitOf` finds it, checked out
 * (`ostree checkout`) into the directory `<commit>` of the input; `data.refs` maps each commit id to
 * `{path: <commit>}`, the directory relative to the input's path.
 */
import { join } from 'node:path';
import type { Input } from '@debian-forge/manifest';
import { run } from '../exec.ts';
import { input as inputSchema } from '../module-schema.ts';
import type { InputContext, InputModule } from './common.ts';
import { commitOf } from './ostree-commit.ts';

/** Each referenced commit checked out (`ostree checkout`) into `hostDir/<commit>`. */
async function checkoutCommits(
  input: Input,
  hostDir: string,
  ctx: InputContext,
): Promise<Record<string, { path: string }>> {
  const refs: Record<string, { path: string }> = {};
  for (const ref of input.refs.keys()) {
    const { from, commit } = await commitOf(input, ref, ctx);
    if (refs[commit]) continue;
    await run(['ostree', 'checkout', `--repo=${from}`, commit, join(hostDir, commit)]);
    refs[commit] = { path: commit };
  }
  return refs;
}

export default {
  type: 'org.osbuild.ostree.checkout',
  schema2: inputSchema('org.osbuild.ostree.checkout', ['org.osbuild.source', 'org.osbuild.pipeline']),
  map: async (input, { hostDir, sandboxDir }, ctx) => ({
    path: sandboxDir,
    data: { refs: await checkoutCommits(input, hostDir, ctx) },
  }),
} satisfies InputModule;
