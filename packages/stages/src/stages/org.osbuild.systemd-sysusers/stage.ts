import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { exec } from '../../shared/exec.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  exec(['systemd-sysusers', '--root', args.tree]);
}
