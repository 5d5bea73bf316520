import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const input = args.inputs.commits;
  const refs = input?.data?.refs as Record<string, { ref?: string }> | undefined;
  if (!input || !refs || Object.keys(refs).length === 0) {
    throw new StageError('the input `commits` names no commit');
  }
  const repo = inRoot(args.tree, args.options.repo);
  if (!existsSync(join(repo, 'config'))) throw new StageError(`no OSTree repository at ${args.options.repo}`);
  const remote = args.options.remote;
  for (const [commit, data] of Object.entries(refs)) {
    const ref = data?.ref || commit;
    exec([
      'ostree',
      'pull-local',
      `--repo=${repo}`,
      ...(remote ? [`--remote=${remote}`] : []),
      input.path,
      ref,
    ]);
  }
}
