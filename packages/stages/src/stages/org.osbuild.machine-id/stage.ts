import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const mode = args.options['first-boot'];
  const file = inRoot(args.tree, '/etc/machine-id');
  if (mode === 'preserve') {
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
      throw new StageError('/etc/machine-id cannot be preserved: the tree has none');
    }
    return;
  }
  if (mode !== 'yes' && mode !== 'no') throw new StageError(`unknown first-boot mode '${mode}'`);
  mkdirSync(posix.dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, mode === 'yes' ? 'uninitialized\n' : '', { mode: 0o644 });
}
