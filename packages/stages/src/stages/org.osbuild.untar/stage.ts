import { statSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inputFile } from '../../shared/file-input.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const prefix = args.options.prefix ?? '/';
  const source = inputFile(args);
  const target = inRoot(args.tree, prefix);
  if (!statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
    throw new StageError(`cannot unpack into ${prefix}: no such directory in the tree`);
  }
  exec([
    'tar',
    '--auto-compress',
    '--extract',
    '--numeric-owner',
    `--file=${source}`,
    `--directory=${target}`,
  ]);
}
