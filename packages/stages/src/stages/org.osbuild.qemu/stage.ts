import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { format, options } from './schema.ts';

type Options = z.input<typeof options>;
type Format = z.input<typeof format>;

/** qemu-img convert's format-specific arguments (exported for tests). */
export function formatArgs(fmt: Format): string[] {
  switch (fmt.type) {
    case 'qcow2': {
      const argv = fmt.compression === false ? [] : ['-c'];
      if (fmt.compat) argv.push('-o', `compat=${fmt.compat}`);
      return argv;
    }
    case 'vmdk': {
      const argv = fmt.compression === false ? [] : ['-c'];
      const opts: string[] = [];
      if (fmt.adapter_type) opts.push(`adapter_type=${fmt.adapter_type}`);
      if (fmt.compat6) opts.push('compat6');
      if (fmt.subformat) opts.push(`subformat=${fmt.subformat}`);
      if (opts.length > 0) argv.push('-o', opts.join(','));
      return argv;
    }
    case 'vpc': {
      const opts = [`subformat=${fmt.subformat ?? 'fixed'}`];
      if (fmt.force_size !== false) opts.push('force_size');
      return ['-o', opts.join(',')];
    }
    default:
      return [];
  }
}

function sourceImage(args: StageArguments<Options>): string {
  const input = args.inputs?.image;
  if (!input) throw new StageError("the input 'image' is missing");
  const names = Object.keys(input.data?.files ?? {});
  if (names.length !== 1) {
    throw new StageError(`the input 'image' must hold exactly one file, it holds ${names.length}`);
  }
  return inRoot(input.path, names[0] as string);
}

export function main(args: StageArguments<Options>): void {
  const { filename, format: fmt } = args.options;
  const source = sourceImage(args);
  const target = inRoot(args.tree, filename);
  if (target === args.tree) throw new StageError(`invalid filename '${filename}'`);
  mkdirSync(dirname(target), { recursive: true });
  const argv = ['qemu-img', 'convert', '-O', fmt.type, ...formatArgs(fmt)];
  const coroutines = process.env.OSBUILD_QEMU_IMG_COROUTINES;
  if (coroutines) {
    process.stdout.write(`qemu-img coroutines: ${coroutines}\n`);
    argv.push('-m', coroutines);
  }
  exec([...argv, source, target]);
}
