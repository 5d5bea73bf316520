/**
 * Names that an earlier version stored and the name rule (blueprintNameProblem) now refuses: ".",
 * "..", 100,000 characters, characters outside [a-zA-Z0-9._-]. Such a row shows in a list but can
 * never be read, changed or deleted through the API, because its name cannot travel in a URL path:
 * clients resolve "." and "..", and servers refuse a request head over 16 KiB.
 *
 * Deleting the rows would lose the user's blueprints, their history and their sources, and taking
 * any stored name in a delete route would still fail for the long ones; so each is renamed instead,
 * when the store opens, to a name that follows the rule and is derived from the old one (what of it
 * is allowed, cut short, then a hash of the whole): "my blueprint" → "my-blueprint-1a2b3c4d",
 * ".." → "renamed-6b86b273". Nothing else in the row changes. A source's display name (Weldr v1's
 * `name`) that holds control characters or is too long is cleaned the same way.
 *
 * Compose rows keep the blueprint name they were made from: it is their history, and a compose is
 * listed and deleted by its uuid.
 */
import { createHash } from 'node:crypto';
import { blueprintNameProblem, MAX_NAME_LENGTH, oneLineProblem } from '@debian-forge/blueprint';
import type Database from 'better-sqlite3';

export interface NameRepair {
  /** What was renamed. */
  kind: 'blueprint' | 'source' | 'source display name';
  from: string;
  to: string;
  /** Why the old name was refused. */
  problem: string;
}

/** One line for the service's log: what was renamed (a long name cut short), to what, and why. */
export function describeRepair(r: NameRepair): string {
  const shown = (v: string) =>
    v.length > 60 ? `${JSON.stringify(v.slice(0, 60))}… (${v.length} characters)` : JSON.stringify(v);
  return `stored ${r.kind} ${shown(r.from)} renamed to ${JSON.stringify(r.to)}: ${r.problem}`;
}

/** The name a refused one gets: its allowed characters, at most 60 of them, and a hash of all of it. */
export function repairedName(old: string, taken: (name: string) => boolean): string {
  const base =
    old
      .replace(/[^a-zA-Z0-9._-]+/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, 60)
      .replace(/[.-]+$/, '') || 'renamed';
  const hash = createHash('sha256').update(old).digest('hex');
  for (let n = 8; base.length + 1 + n <= MAX_NAME_LENGTH && n <= hash.length; n++) {
    const name = `${base}-${hash.slice(0, n)}`;
    if (!taken(name)) return name;
  }
  // Only a store holding every longer prefix of the same hash gets here.
  throw new Error(`no free name for ${JSON.stringify(old.slice(0, 60))}`);
}

const displayNameProblem = oneLineProblem('name');

/** A display name with its control characters turned into spaces, at most MAX_NAME_LENGTH long. */
function cleanDisplayName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return name.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, MAX_NAME_LENGTH);
}

/** The stored blueprint JSON with its new name; text that does not parse stays as it is. */
function renamedJson(text: string, name: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  return typeof doc === 'object' && doc !== null ? JSON.stringify({ ...doc, name }) : text;
}

/** Renames every refused blueprint and source name (see the top of this file), in one transaction. */
export function repairNames(db: Database.Database): NameRepair[] {
  const repairs: NameRepair[] = [];
  const run = db.transaction(() => {
    // Changes refer to their blueprint by name: checked at the commit, when both carry the new one.
    db.pragma('defer_foreign_keys = ON');
    const blueprintNames = new Set(
      (
        db.prepare('SELECT name FROM blueprints UNION SELECT name FROM blueprint_workspace').all() as {
          name: string;
        }[]
      ).map((r) => r.name),
    );
    for (const from of [...blueprintNames]) {
      const problem = blueprintNameProblem(from);
      if (problem === undefined) continue;
      const to = repairedName(from, (n) => blueprintNames.has(n));
      blueprintNames.add(to);
      for (const table of ['blueprints', 'blueprint_changes', 'blueprint_workspace']) {
        const key = table === 'blueprint_changes' ? 'seq' : 'name';
        const rows = db.prepare(`SELECT ${key} AS k, blueprint FROM ${table} WHERE name = ?`).all(from) as {
          k: string | number;
          blueprint: string;
        }[];
        const update = db.prepare(`UPDATE ${table} SET name = ?, blueprint = ? WHERE ${key} = ?`);
        for (const r of rows) update.run(to, renamedJson(r.blueprint, to), r.k);
      }
      repairs.push({ kind: 'blueprint', from, to, problem });
    }

    const sources = db.prepare('SELECT name, display_name FROM sources').all() as {
      name: string;
      display_name: string;
    }[];
    const sourceNames = new Set(sources.map((r) => r.name));
    for (const { name: from, display_name: display } of sources) {
      const problem = blueprintNameProblem(from, 'source');
      let name = from;
      if (problem !== undefined) {
        name = repairedName(from, (n) => sourceNames.has(n));
        sourceNames.add(name);
        repairs.push({ kind: 'source', from, to: name, problem });
      }
      // A v0 source shows its key as its name: it follows the key.
      let shown = display === from ? name : display;
      const displayProblem = displayNameProblem(shown);
      if (displayProblem !== undefined) {
        shown = cleanDisplayName(shown);
        repairs.push({ kind: 'source display name', from: display, to: shown, problem: displayProblem });
      }
      if (name !== from || shown !== display) {
        db.prepare('UPDATE sources SET name = ?, display_name = ? WHERE name = ?').run(name, shown, from);
      }
    }
  });
  run.immediate();
  return repairs;
}
