import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

const FEATURES = ['verity', 'orphan_file', 'metadata_csum_seed'] as const;

/** The mkfs.ext4 command line for these options (exported for tests). */
export function mkfsArgv(device: string, opts: Options): string[] {
  const argv = ['mkfs.ext4', '-U', opts.uuid];
  if (opts.label) argv.push('-L', opts.label);
  if (opts.lazy_init !== undefined) {
    const on = opts.lazy_init ? 1 : 0;
    argv.push('-E', `lazy_itable_init=${on},lazy_journal_init=${on}`);
  }
  for (const feature of FEATURES) {
    const value = opts[feature];
    if (value !== undefined) argv.push('-O', value ? feature : `^${feature}`);
  }
  argv.push(device);
  return argv;
}

export function main(args: StageArguments<Options>): void {
  const device = args.devices?.device?.path;
  if (!device) throw new StageError("no device named 'device' was given to this stage");
  exec(mkfsArgv(device, args.options));
}
