/**
 * Blueprint diff in the shape of Weldr's `GET blueprints/diff/<bp>/NEWEST/WORKSPACE`:
 * `{"diff": [{"old": {...} | null, "new": {...} | null}]}`. Each side is a one-key object naming what
 * changed: `{"Package": {name, version}}`, `{"Module": …}`, `{"Group": {name}}`, `{"Description": "…"}`,
 * `{"Version": "…"}`, `{"Customizations.<key>": …}`; null on the side where the item does not exist.
 *
 * osbuild-composer reports only packages; lorax-composer, whose format composer kept, also reports
 * name, description, version, modules, groups and customizations. This reports all of them, in
 * lorax's order: name, description, version, modules, packages, groups, then (ours alone) source
 * packages, then customizations by key; within a list, added items, then removed ones, then changed ones, each sorted by name ignoring case.
 */
import type { Blueprint } from './schema.ts';

export type DiffSide = Record<string, unknown>;

export interface DiffEntry {
  old: DiffSide | null;
  new: DiffSide | null;
}

export interface DiffResponse {
  diff: DiffEntry[];
}

/** Structural equality of JSON-like values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function byLowerName(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** Strips undefined members so entries print as composer prints them. */
function plain<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Differences of two lists of objects, matched by the string in `field` (or the one it returns). */
export function diffLists(
  title: string,
  field: string | ((item: Record<string, unknown>) => string),
  oldItems: readonly Record<string, unknown>[],
  newItems: readonly Record<string, unknown>[],
): DiffEntry[] {
  const key = (item: Record<string, unknown>) =>
    typeof field === 'function' ? field(item) : String(item[field]);
  const find = (items: readonly Record<string, unknown>[], k: string) => items.find((i) => key(i) === k);
  const oldKeys = new Set(oldItems.map(key));
  const newKeys = new Set(newItems.map(key));
  const added = [...newKeys].filter((k) => !oldKeys.has(k)).sort(byLowerName);
  const removed = [...oldKeys].filter((k) => !newKeys.has(k)).sort(byLowerName);
  const same = [...newKeys].filter((k) => oldKeys.has(k)).sort(byLowerName);
  const diffs: DiffEntry[] = [];
  for (const k of added) diffs.push({ old: null, new: { [title]: plain(find(newItems, k)) } });
  for (const k of removed) diffs.push({ old: { [title]: plain(find(oldItems, k)) }, new: null });
  for (const k of same) {
    const o = find(oldItems, k);
    const n = find(newItems, k);
    if (!deepEqual(o, n)) diffs.push({ old: { [title]: plain(o) }, new: { [title]: plain(n) } });
  }
  return diffs;
}

/** The key that identifies an item of each customization list. */
const LIST_KEYS: Record<string, string> = {
  sshkey: 'user',
  user: 'name',
  group: 'name',
  filesystem: 'mountpoint',
  directories: 'path',
  files: 'path',
  repositories: 'id',
};

function customizationsDiff(oldC: Record<string, unknown>, newC: Record<string, unknown>): DiffEntry[] {
  const present = (c: Record<string, unknown>) => Object.keys(c).filter((k) => c[k] !== undefined);
  const oldKeys = new Set(present(oldC));
  const newKeys = new Set(present(newC));
  const diffs: DiffEntry[] = [];
  for (const k of [...newKeys].filter((x) => !oldKeys.has(x)).sort(byLowerName)) {
    diffs.push({ old: null, new: { [`Customizations.${k}`]: plain(newC[k]) } });
  }
  for (const k of [...oldKeys].filter((x) => !newKeys.has(x)).sort(byLowerName)) {
    diffs.push({ old: { [`Customizations.${k}`]: plain(oldC[k]) }, new: null });
  }
  for (const k of [...newKeys].filter((x) => oldKeys.has(x)).sort(byLowerName)) {
    const o = oldC[k];
    const n = newC[k];
    if (deepEqual(o, n)) continue;
    const field = LIST_KEYS[k];
    if (field !== undefined && Array.isArray(o) && Array.isArray(n)) {
      diffs.push(...diffLists(`Customizations.${k}`, field, o, n));
    } else {
      diffs.push({ old: { [`Customizations.${k}`]: plain(o) }, new: { [`Customizations.${k}`]: plain(n) } });
    }
  }
  return diffs;
}

/** Every difference between two versions of a blueprint, `old` being the committed one. */
export function diffBlueprints(oldBp: Blueprint, newBp: Blueprint): DiffEntry[] {
  const diffs: DiffEntry[] = [];
  for (const [key, title] of [
    ['name', 'Name'],
    ['description', 'Description'],
    ['version', 'Version'],
  ] as const) {
    if (oldBp[key] !== newBp[key]) diffs.push({ old: { [title]: oldBp[key] }, new: { [title]: newBp[key] } });
  }
  diffs.push(...diffLists('Module', 'name', oldBp.modules, newBp.modules));
  diffs.push(...diffLists('Package', 'name', oldBp.packages, newBp.packages));
  diffs.push(...diffLists('Group', 'name', oldBp.groups, newBp.groups));
  // A source package is one of the archive's by name or a local one by path, never both.
  const sourceKey = (s: Record<string, unknown>) => String(s.name ?? s.path);
  diffs.push(
    ...diffLists('SourcePackage', sourceKey, oldBp.source_packages ?? [], newBp.source_packages ?? []),
  );
  diffs.push(...customizationsDiff(oldBp.customizations ?? {}, newBp.customizations ?? {}));
  return diffs;
}

/** The body of Weldr's `blueprints/diff` answer. */
export function diffResponse(oldBp: Blueprint, newBp: Blueprint): DiffResponse {
  return { diff: diffBlueprints(oldBp, newBp) };
}
