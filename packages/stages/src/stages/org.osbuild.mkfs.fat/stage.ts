import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** The mkfs.fat command line for these options (exported for tests). */
export function mkfsArgv(device: string, opts: Options): string[] {
  const argv = ['mkfs.fat', '-I', '-i', opts.volid];
  if (opts.label) argv.push('-n', opts.label);
  if (opts['fat-size']) argv.push('-F', String(opts['fat-size']));
  if (opts.geometry) argv.push('-g', `${opts.geometry.heads}/${opts.geometry['sectors-per-track']}`);
  argv.push(device);
  return argv;
}

export function main(args: StageArguments<Options>): void {
  const device = args.devices?.device?.path;
  if (!device) throw new StageError("no device named 'device' was given to this stage");
  exec(mkfsArgv(device, args.options));
}
