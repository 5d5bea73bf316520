import { linkSync, symlinkSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot, parseLocation, splitLocation } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  for (const item of args.options.paths) {
    const where = splitLocation(item.link_name, args);
    const link = inRoot(where.root, where.path, false);
    try {
      if (item.symbolic) {
        process.stdout.write(`symbolic link ${item.link_name} -> ${item.target}\n`);
        symlinkSync(item.target, link);
      } else {
        const target = item.target.includes('://')
          ? parseLocation(item.target, args)
          : inRoot(where.root, item.target);
        process.stdout.write(`hard link ${item.link_name} -> ${item.target}\n`);
        linkSync(target, link);
      }
    } catch (err) {
      throw new StageError(`cannot create ${item.link_name}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}
