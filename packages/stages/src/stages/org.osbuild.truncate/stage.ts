import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const { filename, size } = args.options;
  exec(['truncate', `--size=${size}`, '--', inRoot(args.tree, filename)]);
}
