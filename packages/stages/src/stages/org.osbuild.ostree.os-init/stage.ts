import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const { osname } = args.options;
  if (!/^[\w.-]+$/.test(osname) || osname === '.' || osname === '..') {
    throw new StageError(`invalid osname '${osname}'`);
  }
  exec(['ostree', 'admin', 'os-init', `--sysroot=${args.tree}`, osname]);
}
