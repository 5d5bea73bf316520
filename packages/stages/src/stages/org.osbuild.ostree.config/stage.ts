import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const repo = inRoot(args.tree, args.options.repo);
  if (!existsSync(join(repo, 'config'))) throw new StageError(`no OSTree repository at ${args.options.repo}`);
  const sysroot = args.options.config?.sysroot ?? {};
  const set = (key: string, value: string) => exec(['ostree', 'config', `--repo=${repo}`, 'set', key, value]);
  if (sysroot.bootloader) set('sysroot.bootloader', sysroot.bootloader);
  if (sysroot.bootprefix !== undefined) set('sysroot.bootprefix', String(sysroot.bootprefix));
  if (sysroot.readonly !== undefined) set('sysroot.readonly', String(sysroot.readonly));
  if (sysroot['bls-append-except-default']) {
    set('sysroot.bls-append-except-default', sysroot['bls-append-except-default']);
  }
}
