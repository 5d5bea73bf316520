import { chmodSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { dearmour } from '../../shared/openpgp.ts';
import { inRoot } from '../../shared/paths.ts';
import { APT_KEY, KEYRING, STEM } from './names.ts';
import type { options, pin, source } from './schema.ts';

type Options = z.input<typeof options>;
type AptValue = string | number | boolean;

const WORD = /^[^\s"]+$/;

function checkName(name: string, pattern: RegExp, what: string): void {
  if (!pattern.test(name)) throw new StageError(`invalid ${what} name '${name}'`);
}

function checkWords(values: string[], what: string): void {
  for (const v of values) if (!WORD.test(v)) throw new StageError(`invalid ${what} '${v}'`);
}

/** Writes `content` to `path` inside the tree (mode 0644), creating missing directories (0755). */
function writeInTree(tree: string, path: string, content: string | Uint8Array): void {
  const target = inRoot(tree, path);
  const st = lstatSync(target, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new StageError(`${path} exists and is not a regular file`);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  writeFileSync(target, content, { mode: 0o644 });
  chmodSync(target, 0o644);
}

export function deb822Source(entry: z.input<typeof source>): string {
  const types = entry.types ?? ['deb'];
  checkWords(entry.uris, 'URI');
  checkWords(entry.suites, 'suite');
  checkWords(entry.components, 'component');
  const flat = entry.suites.every((s) => s.endsWith('/'));
  if (flat && entry.components.length > 0) {
    throw new StageError(`a flat repository (suite ${entry.suites.join(' ')}) takes no components`);
  }
  if (!flat && entry.components.length === 0) {
    throw new StageError(`suites ${entry.suites.join(' ')} need at least one component`);
  }
  const lines = [
    `Types: ${types.join(' ')}`,
    `URIs: ${entry.uris.join(' ')}`,
    `Suites: ${entry.suites.join(' ')}`,
  ];
  if (entry.components.length > 0) lines.push(`Components: ${entry.components.join(' ')}`);
  if (entry.architectures) lines.push(`Architectures: ${entry.architectures.join(' ')}`);
  if (entry['signed-by'] !== undefined) {
    if (!/^\/[^\s"]*$/.test(entry['signed-by'])) {
      throw new StageError(`signed-by '${entry['signed-by']}' must be an absolute path`);
    }
    lines.push(`Signed-By: ${entry['signed-by']}`);
  }
  if (entry.enabled === false) lines.push('Enabled: no');
  return `${lines.join('\n')}\n`;
}

export function preferencesFile(entries: z.input<typeof pin>[]): string {
  return entries
    .map((e) => {
      for (const v of [e.package, e.pin]) {
        if (/[\n\r]/.test(v) || v.trim() === '') throw new StageError(`invalid pin value '${v}'`);
      }
      if (!Number.isInteger(e['pin-priority'])) throw new StageError('pin-priority must be an integer');
      return `Package: ${e.package}\nPin: ${e.pin}\nPin-Priority: ${e['pin-priority']}\n`;
    })
    .join('\n');
}

function aptQuote(value: AptValue): string {
  const s = String(value);
  if (/["\\\n\r]/.test(s)) throw new StageError(`apt.conf cannot hold the value ${JSON.stringify(s)}`);
  return `"${s}"`;
}

export function aptConfFile(items: Record<string, AptValue | AptValue[]>): string {
  return Object.entries(items)
    .map(([key, value]) => {
      checkName(key, APT_KEY, 'apt configuration item');
      if (Array.isArray(value)) {
        return `${key} {${value.map((v) => ` ${aptQuote(v)};`).join('')} };\n`;
      }
      return `${key} ${aptQuote(value)};\n`;
    })
    .join('');
}

export function main(args: StageArguments<Options>): void {
  const o = args.options;
  const tree = args.tree;

  for (const [name, text] of Object.entries(o.keyrings ?? {})) {
    checkName(name, KEYRING, 'keyring');
    const binary = dearmour(text, name);
    writeInTree(tree, `/etc/apt/keyrings/${name}`, name.endsWith('.gpg') ? binary : text);
  }
  for (const [stem, entry] of Object.entries(o.sources ?? {})) {
    checkName(stem, STEM, 'sources file');
    writeInTree(tree, `/etc/apt/sources.list.d/${stem}.sources`, deb822Source(entry));
  }
  for (const [stem, entries] of Object.entries(o.preferences ?? {})) {
    checkName(stem, STEM, 'preferences file');
    writeInTree(tree, `/etc/apt/preferences.d/${stem}`, preferencesFile(entries));
  }
  for (const [stem, items] of Object.entries(o.config ?? {})) {
    checkName(stem, STEM, 'apt.conf.d file');
    writeInTree(tree, `/etc/apt/apt.conf.d/${stem}`, aptConfFile(items));
  }
  if (o['remove-sources-list']) {
    rmSync(inRoot(tree, '/etc/apt/sources.list', false), { force: true });
  }
}
