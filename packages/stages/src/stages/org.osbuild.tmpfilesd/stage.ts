import { mkdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Line = z.input<typeof options>['config'][number];

const OPTIONAL = ['mode', 'user', 'group', 'age', 'argument'] as const;

export function formatLine(entry: Line): string {
  // Up to the last field given; empty strings count as not given.
  const last = OPTIONAL.findLastIndex((k) => entry[k]);
  const fields = [entry.type, entry.path, ...OPTIONAL.slice(0, last + 1).map((k) => entry[k] || '-')];
  for (const f of fields) {
    if (/[\r\n]/.test(f)) throw new StageError(`tmpfiles.d field ${JSON.stringify(f)} contains a line break`);
  }
  return `${fields.join(' ')}\n`;
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const { filename, config } = args.options;
  if (!/^[\w.-]{1,250}\.conf$/.test(filename)) throw new StageError(`invalid file name '${filename}'`);
  const text = config.map(formatLine).join('');
  const target = inRoot(args.tree, `/usr/lib/tmpfiles.d/${filename}`);
  mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
  writeFileSync(target, text, { mode: 0o644 });
}
