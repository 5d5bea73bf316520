import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const repo = inRoot(args.tree, args.options.repo);
  if (!existsSync(join(repo, 'config'))) throw new StageError(`no OSTree repository at ${args.options.repo}`);
  for (const remote of args.options.remotes ?? []) {
    // ostree's option parser knows no `--`: nothing may start with `-`.
    if (!/^\w[\w.-]*$/.test(remote.name)) throw new StageError(`invalid remote name '${remote.name}'`);
    for (const arg of [remote.url, ...(remote.branches ?? [])]) {
      if (arg.startsWith('-')) throw new StageError(`invalid URL or branch '${arg}'`);
    }
    const gpgkeys = remote.gpgkeys ?? [];
    const keypaths = remote.gpgkeypaths ?? [];
    const extra: string[] = [];
    if (keypaths.length > 0) extra.push(`--set=gpgkeypath=${keypaths.join(',')}`, '--set=gpg-verify=true');
    else if (gpgkeys.length === 0) extra.push('--no-gpg-verify');
    if (remote.contenturl) extra.push(`--set=contenturl=${remote.contenturl}`);
    exec([
      'ostree',
      'remote',
      'add',
      `--repo=${repo}`,
      '--if-not-exists',
      ...extra,
      remote.name,
      remote.url,
      ...(remote.branches ?? []),
    ]);
    for (const key of gpgkeys) {
      exec(['ostree', 'remote', 'gpg-import', `--repo=${repo}`, '--stdin', remote.name], { input: key });
    }
  }
}
