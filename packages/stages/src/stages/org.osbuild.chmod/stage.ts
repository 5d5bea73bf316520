import { existsSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  for (const [path, item] of Object.entries(args.options.items ?? {})) {
    const target = inRoot(args.tree, path);
    if (!existsSync(target)) throw new StageError(`cannot change the mode of ${path}: it does not exist`);
    // The mode goes first: chmod reads modes such as `-w` there, and `--` ends the options before the path.
    exec(['chmod', item.mode, ...(item.recursive ? ['--recursive'] : []), '--', target]);
  }
}
