import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** The kernel's COMMAND_LINE_SIZE by Node.js architecture name. */
const LIMITS: Record<string, number> = {
  x64: 2048,
  ia32: 2048,
  arm64: 2048,
  arm: 1024,
  ppc64: 2048,
  ppc: 2048,
  riscv64: 1024,
  mips: 4096,
  mipsel: 4096,
};

export function cmdline(o: Options): string {
  return [o.root_fs_uuid ? `root=UUID=${o.root_fs_uuid}` : '', o.kernel_opts ?? ''].filter(Boolean).join(' ');
}

export function main(args: StageArguments<Options>, arch: string = process.arch): { cmdline: string } {
  const o = args.options;
  const line = cmdline(o);
  const limit = o.kernel_cmdline_size ?? LIMITS[arch] ?? 4096;
  if (Buffer.byteLength(line) > limit) {
    throw new StageError(`the kernel command line is ${Buffer.byteLength(line)} bytes, more than ${limit}`);
  }
  const dir = inRoot(args.tree, '/etc/kernel');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cmdline'), line);
  return { cmdline: line };
}
