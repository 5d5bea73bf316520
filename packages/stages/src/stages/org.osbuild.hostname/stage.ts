import type { z } from 'zod';
import type { StageArguments } from '../../api/arguments.ts';
import { StageError } from '../../api/errors.ts';
import { replaceFile } from './config-file.ts';
import type { options } from './schema.ts';

/** systemd's `hostname_is_valid` with a trailing dot allowed, which is then dropped; else undefined. */
export function cleanHostname(name: string): string | undefined {
  const host = name.endsWith('.') ? name.slice(0, -1) : name;
  if (host.length === 0 || host.length > 64) return undefined;
  const labels = host.split('.');
  return labels.every((l) => /^[A-Za-z0-9_-]+$/.test(l)) ? host : undefined;
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const host = cleanHostname(args.options.hostname);
  if (host === undefined) throw new StageError(`'${args.options.hostname}' is not a valid host name`);
  replaceFile(args.tree, '/etc/hostname', `${host}\n`);
}
