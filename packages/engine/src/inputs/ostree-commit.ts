/**
 * Shared by the OSTree inputs (org.osbuild.ostree, ostree.checkout): where a reference's commit is,
 * the source cache STORE/sources/org.osbuild.ostree/repo or a pipeline's `/repo`, whose commit
 * `/compose.json` names (`ostree-commit`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Input } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { inside } from '../paths.ts';
import { type InputContext, inputError } from './common.ts';

/** The repository holding a reference's commit, and the commit: the source cache's, or a pipeline's /repo. */
export async function commitOf(
  input: Input,
  ref: string,
  ctx: InputContext,
): Promise<{ from: string; commit: string }> {
  let from: string;
  let commit: string;
  if (input.origin === 'org.osbuild.pipeline') {
    const obj = await ctx.pipeline(ref);
    if (!obj)
      throw new EngineError(EngineErrorCode.Input, `input '${input.name}': unknown pipeline '${ref}'`);
    const fail = inputError(input.name);
    const composeJson = inside(obj.tree, 'compose.json', {}, fail);
    let compose: { 'ostree-commit'?: unknown };
    try {
      compose = JSON.parse(readFileSync(composeJson, 'utf8'));
    } catch {
      throw new EngineError(
        EngineErrorCode.Input,
        `input '${input.name}': pipeline '${ref}' has no /compose.json naming its commit`,
      );
    }
    commit = String(compose['ostree-commit'] ?? '');
    from = inside(obj.tree, 'repo', {}, fail);
  } else {
    commit = ref;
    from = join(ctx.sourcesDir, 'org.osbuild.ostree', 'repo');
  }
  if (!/^[0-9a-f]{64}$/.test(commit))
    throw new EngineError(EngineErrorCode.Input, `input '${input.name}': '${commit}' is not a commit id`);
  return { from, commit };
}
