import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { isFilename, isSafeString, replaceFile } from '../../shared/config-file.ts';
import { StageError } from '../../shared/errors.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const language = args.options.language;
  if (!isFilename(language) || !isSafeString(language)) {
    throw new StageError(`'${language}' is not a valid locale name`);
  }
  replaceFile(args.tree, '/etc/locale.conf', `LANG=${language}\n`);
  replaceFile(args.tree, '/etc/default/locale', `LANG=${language}\n`);
}
