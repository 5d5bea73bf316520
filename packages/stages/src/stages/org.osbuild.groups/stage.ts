import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { exec } from '../../shared/exec.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

export function main(args: StageArguments<Options>): void {
  const force = args.options.force ?? false;
  for (const [name, group] of Object.entries(args.options.groups ?? {})) {
    const argv = ['groupadd', '--root', args.tree];
    // as OSBuild: a GID of 0 counts as not given
    if (group.gid) argv.push('--gid', String(group.gid));
    if (force) argv.push('--force');
    exec([...argv, '--', name]);
  }
}
