import { statSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../api/arguments.ts';
import { StageError } from '../../api/errors.ts';
import { exec } from '../../api/exec.ts';
import { inRoot } from '../../api/paths.ts';
import { inputFile } from '../org.osbuild.gzip/file-input.ts';
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
