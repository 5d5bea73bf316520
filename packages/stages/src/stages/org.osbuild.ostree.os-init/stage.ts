import type { z } from 'zod';
import type { StageArguments } from '../../api/arguments.ts';
import { StageError } from '../../api/errors.ts';
import { exec } from '../../api/exec.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const { osname } = args.options;
  if (!/^[\w.-]+$/.test(osname) || osname === '.' || osname === '..') {
    throw new StageError(`invalid osname '${osname}'`);
  }
  exec(['ostree', 'admin', 'os-init', `--sysroot=${args.tree}`, osname]);
}
