import { mkdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import { SYSUSER_NAME } from './names.ts';
import type { options } from './schema.ts';

type Entry = z.input<typeof options>['config']['entries'][number];

const TYPES = ['u', 'u!', 'g', 'm', 'r'];
const RESERVED = [65535, 4294967295];

function invalid(field: string, value: string, reason: string): StageError {
  return new StageError(`sysusers entry ${field}='${value}' is invalid: ${reason}`);
}

function checkIds(id: string, separator: string): void {
  const parts = id.split(separator);
  if (parts.length > 2 || parts.some((p) => !/^\d+$/.test(p))) throw invalid('id', id, 'invalid format');
  if (parts.some((p) => RESERVED.includes(Number(p)))) {
    throw invalid('id', id, `ids ${RESERVED.join(' and ')} are reserved`);
  }
}

/** OSBuild's checks of an entry; returns the entry's sysusers.d line. */
export function sysusersLine(entry: Entry): string {
  const { type, name } = entry;
  const id = entry.id ?? '-';
  const gecos = entry.gecos ?? '-';
  const home = entry.home ?? '-';
  const shell = entry.shell ?? '-';
  if (!TYPES.includes(type)) throw invalid('type', type, `must be one of ${TYPES.join(', ')}`);
  if (type === 'r' && name !== '-') throw invalid('name', name, "must be '-' for type 'r'");
  if (!SYSUSER_NAME.test(name)) throw invalid('name', name, `must match ${SYSUSER_NAME.source}`);
  if (type === 'm') {
    if (!SYSUSER_NAME.test(id)) throw invalid('id', id, "must be a group name for type 'm'");
  } else if (type === 'r') {
    checkIds(id, '-');
  } else if (id !== '-') {
    checkIds(id, ':');
  }
  if (type !== 'u') {
    for (const [field, value] of [
      ['gecos', gecos],
      ['home', home],
      ['shell', shell],
    ] as const) {
      if (value !== '' && value !== '-') throw invalid(field, value, "only type 'u' has one");
    }
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters would break the line
  if (/["\\\x00-\x1f]/.test(gecos))
    throw invalid('gecos', gecos, 'no quotes, backslashes or control characters');
  for (const [field, value] of [
    ['home', home],
    ['shell', shell],
  ] as const) {
    if (/\s/.test(value)) throw invalid(field, value, 'no white space');
  }
  const quoted = gecos === '-' ? gecos : `"${gecos}"`;
  return `${`${type} ${name} ${id} ${quoted} ${home} ${shell}`.trim()}\n`;
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const config = args.options.config;
  if (!config.filename.endsWith('.conf') || config.filename.includes('/')) {
    throw new StageError(`'${config.filename}' must be a file name ending in .conf`);
  }
  if (config.entries.length === 0) throw new StageError('no entries to write');
  const text = config.entries.map(sysusersLine).join('');
  const dir = config['path-prefix'] === 'etc' ? '/etc/sysusers.d' : '/usr/lib/sysusers.d';
  const target = inRoot(args.tree, `${dir}/${config.filename}`);
  mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
  writeFileSync(target, text, { mode: 0o644 });
  process.stdout.write(`wrote ${dir}/${config.filename}\n`);
}
