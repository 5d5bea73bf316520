/**
 * `org.osbuild.ostree` (OSBuild's `inputs/org.osbuild.ostree`): a new archive repository `repo` holding the referenced commits,
 * pulled (`ostree pull-local`) from where `commitOf` finds them; a reference's `ref` option becomes a
 * ref of the commit. `data.refs` maps each commit id to its options.
 */
import { join } from 'node:path';
import type { Input } from '@debian-forge/manifest';
import { run } from '../exec.ts';
import { input as inputSchema } from '../module-schema.ts';
import type { InputContext, InputModule } from './common.ts';
import { commitOf } from './ostree-commit.ts';

async function pullCommits(
  input: Input,
  hostDir: string,
  ctx: InputContext,
): Promise<Record<string, unknown>> {
  const repo = join(hostDir, 'repo');
  await run(['ostree', 'init', '--mode=archive', `--repo=${repo}`]);
  const refs: Record<string, unknown> = {};
  for (const [ref, opts] of input.refs) {
    const { from, commit } = await commitOf(input, ref, ctx);
    await run(['ostree', 'pull-local', `--repo=${repo}`, from, commit]);
    if (typeof opts.ref === 'string' && opts.ref) {
      await run(['ostree', 'refs', `--repo=${repo}`, `--create=${opts.ref}`, commit]);
    }
    refs[commit] = opts;
  }
  return refs;
}

export default {
  type: 'org.osbuild.ostree',
  schema2: inputSchema('org.osbuild.ostree', ['org.osbuild.source', 'org.osbuild.pipeline']),
  map: async (input, { hostDir, sandboxDir }, ctx) => ({
    path: `${sandboxDir}/repo`,
    data: { refs: await pullCommits(input, hostDir, ctx) },
  }),
} satisfies InputModule;
