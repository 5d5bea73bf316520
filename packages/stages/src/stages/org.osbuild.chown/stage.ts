import { chownSync, lchownSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

/** `name → id` from a passwd(5) or group(5) file in the tree; empty when it does not exist. */
function idsFrom(tree: string, file: string): Map<string, number> {
  const ids = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(inRoot(tree, file), 'utf8');
  } catch {
    return ids;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const [name, , idText] = fields;
    if (!name || name.startsWith('#') || fields.length < 3 || !/^\d+$/.test(idText ?? '')) continue;
    if (!ids.has(name)) ids.set(name, Number(idText));
  }
  return ids;
}

function resolveId(value: string | number | undefined, ids: Map<string, number>, what: string): number {
  if (value === undefined) return -1;
  if (typeof value === 'number') return value;
  const found = ids.get(value);
  if (found !== undefined) return found;
  if (/^\d+$/.test(value)) return Number(value);
  throw new StageError(`unknown ${what} '${value}' in the tree`);
}

function chownTree(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(posix.join(path, name), uid, gid);
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const users = idsFrom(args.tree, '/etc/passwd');
  const groups = idsFrom(args.tree, '/etc/group');
  for (const [path, item] of Object.entries(args.options.items ?? {})) {
    const uid = resolveId(item.user, users, 'user');
    const gid = resolveId(item.group, groups, 'group');
    if (uid === -1 && gid === -1) throw new StageError(`${path}: neither user nor group given`);
    try {
      if (item.recursive) chownTree(inRoot(args.tree, path, false), uid, gid);
      else chownSync(inRoot(args.tree, path), uid, gid);
    } catch (err) {
      if (err instanceof StageError) throw err;
      throw new StageError(`cannot change the owner of ${path}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}
