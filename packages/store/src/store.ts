import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { artifactRepository } from './artifacts.ts';
import { blueprintRepository } from './blueprints.ts';
import { composeRepository } from './composes.ts';
import type { StoreDb } from './database.ts';
import { checkSchema, MIGRATIONS, type Migration, migrate, schemaVersion } from './migrations.ts';
import { type NameRepair, repairNames } from './repair.ts';
import { sourceRepository } from './sources.ts';

export interface StoreOptions {
  /** Open an existing, migrated database for reading only (no migrations, writes fail). */
  readonly?: boolean;
  /** The clock; `new Date()` by default. */
  now?: () => Date;
  /** Commit ids (40 hex digits); random by default. */
  commitId?: () => string;
  /** Compose ids; `crypto.randomUUID` by default. */
  uuid?: () => string;
  /** How long a statement waits for a lock, in ms (5000 by default). */
  busyTimeoutMs?: number;
  /** The schema steps; the package's own by default (tests pass others). */
  migrations?: readonly Migration[];
}

export type Store = ReturnType<typeof openStore>;

/**
 * Opens (creating and migrating when needed) the SQLite database at `path`: WAL journal, foreign
 * keys on, a busy timeout, and names the name rule refuses renamed (`repaired`, see repair.ts).
 * Only the API process writes it; other connections may read with `{ readonly: true }`.
 */
export function openStore(path: string, options: StoreOptions = {}) {
  const clock = options.now ?? (() => new Date());
  const iso = () => clock().toISOString();
  const newCommit = options.commitId ?? (() => randomBytes(20).toString('hex'));
  const newUuid = options.uuid ?? randomUUID;
  const readonly = options.readonly ?? false;
  const migrations = options.migrations ?? MIGRATIONS;

  const db = new Database(path, readonly ? { readonly: true, fileMustExist: true } : {});
  let repaired: NameRepair[] = [];
  try {
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (readonly) checkSchema(db, migrations);
    else {
      migrate(db, iso, migrations);
      repaired = repairNames(db);
    }
  } catch (e) {
    db.close();
    throw e;
  }

  const sdb: StoreDb = { db, tx: (fn) => db.transaction(fn).immediate(), clock, iso };
  const artifacts = artifactRepository(sdb);
  const tx = sdb.tx;

  return {
    path,
    readonly,
    /** The names renamed at this open because the name rule refuses them (repair.ts), to be reported. */
    repaired: repaired as readonly NameRepair[],
    blueprints: blueprintRepository(sdb, newCommit),
    sources: sourceRepository(sdb),
    composes: composeRepository(sdb, newUuid, artifacts),
    artifacts,
    /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); nested store calls join it. */
    transaction<T>(fn: () => T): T {
      return tx(fn);
    },
    /** The connection's settings and schema version (for status pages and tests). */
    info(): { schemaVersion: number; journalMode: string; foreignKeys: boolean; busyTimeoutMs: number } {
      return {
        schemaVersion: schemaVersion(db),
        journalMode: String(db.pragma('journal_mode', { simple: true })),
        foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
        busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
      };
    },
    /** Copies the database to `file` while it is in use (SQLite's online backup). */
    async backup(file: string): Promise<void> {
      await db.backup(file);
    },
    close(): void {
      if (db.open) db.close();
    },
  };
}
