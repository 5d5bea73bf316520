import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { compressInto } from '../../shared/file-input.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  compressInto(args, args.options.filename, ['xz', '--keep', '--stdout', '-0'], {
    ...process.env,
    XZ_OPT: '--threads=0',
  });
}
