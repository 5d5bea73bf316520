import { mkdirSync, statSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { parseLocation } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  for (const item of args.options.paths ?? []) {
    const location =
      item.path.includes('://') || item.path.startsWith('/') ? item.path : `tree:///${item.path}`;
    const target = parseLocation(location, args);
    const mode = item.mode ?? 0o777;
    const exists = statSync(target, { throwIfNoEntry: false });
    if (exists) {
      if (item.exist_ok && exists.isDirectory()) continue;
      throw new StageError(`${item.path} exists already`);
    }
    try {
      mkdirSync(target, { mode, recursive: item.parents ?? false });
    } catch (err) {
      throw new StageError(`cannot create ${item.path}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}
