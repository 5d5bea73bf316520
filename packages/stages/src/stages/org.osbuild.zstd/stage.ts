import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { compressInto } from '../../shared/file-input.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  compressInto(args, args.options.filename, ['zstd', '--keep', '--stdout', '-T0', '-1', '--quiet']);
}
