import { chmodSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
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

/** CRC-24 of OpenPGP's ASCII armour (RFC 4880, 6.1). */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** The binary packets of every public key block in `text`, checked against their CRC-24. */
export function dearmour(text: string, name: string): Buffer {
  const blocks = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/g;
  const parts: Buffer[] = [];
  for (const m of text.matchAll(blocks)) {
    const lines = (m[1] ?? '').split(/\r?\n/);
    const blank = lines.findIndex((l) => l.trim() === '');
    const body = (blank >= 0 ? lines.slice(blank + 1) : lines).map((l) => l.trim()).filter(Boolean);
    let checksum: string | undefined;
    if (body.length > 0 && (body[body.length - 1] as string).startsWith('=')) {
      checksum = (body.pop() as string).slice(1);
    }
    const b64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length === 0) {
      throw new StageError(`keyring ${name}: the armoured key is not valid base64`);
    }
    const data = Buffer.from(b64, 'base64');
    if (checksum !== undefined) {
      const expected = Buffer.from(checksum, 'base64');
      const got = crc24(data);
      if (expected.length !== 3 || expected.readUIntBE(0, 3) !== got) {
        throw new StageError(`keyring ${name}: the armour checksum does not match`);
      }
    }
    parts.push(data);
  }
  if (parts.length === 0) throw new StageError(`keyring ${name} holds no PGP public key block`);
  return Buffer.concat(parts);
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
