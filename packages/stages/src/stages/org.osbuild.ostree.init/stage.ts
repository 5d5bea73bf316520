import { mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const mode = args.options.mode ?? 'archive';
  const repo = inRoot(args.tree, args.options.path ?? '/repo');
  mkdirSync(posix.dirname(repo), { recursive: true, mode: 0o755 });
  exec(['ostree', 'init', `--repo=${repo}`, `--mode=${mode}`]);
}
