import { versionOnPush } from '@debian-forge/blueprint';
import {
  checkName,
  notFound,
  type Page,
  type Paged,
  page,
  type StoreDb,
  weldrTimestamp,
} from './database.ts';

/** A blueprint as JSON (normalized by `@debian-forge/blueprint`); the store only needs its name. */
export type BlueprintJson = { name: string; version?: string } & Record<string, unknown>;

export interface StoredBlueprint {
  name: string;
  version: string;
  blueprint: BlueprintJson;
  createdAt: string;
  updatedAt: string;
}

export interface BlueprintChange {
  commit: string;
  /** "2006-01-02T15:04:05Z" */
  timestamp: string;
  message: string;
  revision: number | null;
  blueprint: BlueprintJson;
}

export interface PushOptions {
  /** The version as the client sent it, before any default (`parseBlueprintText(...).versionGiven`). */
  versionGiven?: string | undefined;
  /** The change message; "Recipe <name>, version <v> saved." by default. */
  message?: string;
}

interface BlueprintRow {
  name: string;
  version: string;
  blueprint: string;
  created_at: string;
  updated_at: string;
}
interface ChangeRow {
  seq: number;
  name: string;
  commit_id: string;
  timestamp: string;
  message: string;
  revision: number | null;
  blueprint: string;
}

/**
 * The blueprints repository (tables blueprints, blueprint_changes, blueprint_workspace): each push
 * is a commit with its change, as Weldr keeps them, and a workspace holds an unsaved edit.
 */
export function blueprintRepository({ db, tx, clock, iso }: StoreDb, newCommit: () => string) {
  const q = {
    bpGet: db.prepare('SELECT * FROM blueprints WHERE name = ?'),
    bpInsert: db.prepare(
      'INSERT INTO blueprints (name, version, blueprint, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    bpUpdate: db.prepare('UPDATE blueprints SET version = ?, blueprint = ?, updated_at = ? WHERE name = ?'),
    bpDelete: db.prepare('DELETE FROM blueprints WHERE name = ?'),
    bpCount: db.prepare('SELECT count(*) AS n FROM blueprints'),
    // The names alone, not a row object each: a page of 1,000 costs a third of the time.
    bpNames: db.prepare('SELECT name FROM blueprints ORDER BY name LIMIT ? OFFSET ?').pluck(),
    changeInsert: db.prepare(
      'INSERT INTO blueprint_changes (name, commit_id, timestamp, message, revision, blueprint) VALUES (?, ?, ?, ?, NULL, ?)',
    ),
    changeCount: db.prepare('SELECT count(*) AS n FROM blueprint_changes WHERE name = ?'),
    changes: db.prepare('SELECT * FROM blueprint_changes WHERE name = ? ORDER BY seq DESC LIMIT ? OFFSET ?'),
    changeGet: db.prepare('SELECT * FROM blueprint_changes WHERE name = ? AND commit_id = ?'),
    changeLatest: db.prepare('SELECT * FROM blueprint_changes WHERE name = ? ORDER BY seq DESC LIMIT 1'),
    maxRevision: db.prepare('SELECT max(revision) AS r FROM blueprint_changes WHERE name = ?'),
    setRevision: db.prepare('UPDATE blueprint_changes SET revision = ? WHERE seq = ?'),
    wsGet: db.prepare('SELECT * FROM blueprint_workspace WHERE name = ?'),
    wsPut: db.prepare(
      `INSERT INTO blueprint_workspace (name, blueprint, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET blueprint = excluded.blueprint, updated_at = excluded.updated_at`,
    ),
    wsDelete: db.prepare('DELETE FROM blueprint_workspace WHERE name = ?'),
  };

  const changeOf = (r: ChangeRow): BlueprintChange => ({
    commit: r.commit_id,
    timestamp: r.timestamp,
    message: r.message,
    revision: r.revision,
    blueprint: JSON.parse(r.blueprint) as BlueprintJson,
  });

  const getBlueprint = (name: string): StoredBlueprint | undefined => {
    const r = q.bpGet.get(name) as BlueprintRow | undefined;
    if (r === undefined) return undefined;
    return {
      name: r.name,
      version: r.version,
      blueprint: JSON.parse(r.blueprint) as BlueprintJson,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  };

  /** Stores `bp` as the new committed version (bumped as on push), records a change, drops the workspace. */
  const commit = (bp: BlueprintJson, versionGiven: string | undefined, message?: (v: string) => string) => {
    checkName(bp.name, 'blueprint');
    const stored = q.bpGet.get(bp.name) as BlueprintRow | undefined;
    const version = versionOnPush(versionGiven, stored?.version);
    const doc: BlueprintJson = { ...bp, version };
    const text = JSON.stringify(doc);
    const now = clock();
    if (stored === undefined) q.bpInsert.run(bp.name, version, text, now.toISOString(), now.toISOString());
    else q.bpUpdate.run(version, text, now.toISOString(), bp.name);
    const change: BlueprintChange = {
      commit: newCommit(),
      timestamp: weldrTimestamp(now),
      message: message?.(version) ?? `Recipe ${bp.name}, version ${version} saved.`,
      revision: null,
      blueprint: doc,
    };
    q.changeInsert.run(bp.name, change.commit, change.timestamp, change.message, text);
    q.wsDelete.run(bp.name);
    return change;
  };

  const blueprints = {
    /**
     * Pushes a blueprint (`POST blueprints/new`): the version follows `versionOnPush`, a change is
     * recorded and the workspace copy is dropped. Returns the change.
     */
    push(bp: BlueprintJson, opts: PushOptions = {}): BlueprintChange {
      return tx(() =>
        commit(bp, opts.versionGiven, opts.message === undefined ? undefined : () => opts.message as string),
      );
    },
    /** The committed blueprint, or undefined. */
    get: getBlueprint,
    exists(name: string): boolean {
      return q.bpGet.get(name) !== undefined;
    },
    /** Committed blueprint names in order; `limit: 0` gives only the total. */
    list(p?: Page): Paged<string> {
      const { offset, limit } = page(p);
      const total = (q.bpCount.get() as { n: number }).n;
      const items = limit === 0 ? [] : (q.bpNames.all(limit, offset) as string[]);
      return { items, total, offset, limit };
    },
    /** The changes of a blueprint, newest first, with their total; undefined for an unknown blueprint. */
    changes(name: string, p?: Page): Paged<BlueprintChange> | undefined {
      const { offset, limit } = page(p);
      if (q.bpGet.get(name) === undefined) return undefined;
      const total = (q.changeCount.get(name) as { n: number }).n;
      const items = limit === 0 ? [] : (q.changes.all(name, limit, offset) as ChangeRow[]).map(changeOf);
      return { items, total, offset, limit };
    },
    /** One change of a blueprint, or undefined. */
    change(name: string, commitId: string): BlueprintChange | undefined {
      const r = q.changeGet.get(name, commitId) as ChangeRow | undefined;
      return r === undefined ? undefined : changeOf(r);
    },
    /**
     * Pushes the blueprint of an earlier change as a new change ("<bp>.toml reverted to commit <c>").
     * Throws `FORGE_ERR_STORE_NOT_FOUND` for an unknown blueprint or commit.
     */
    undo(name: string, commitId: string): BlueprintChange {
      return tx(() => {
        if (q.bpGet.get(name) === undefined) throw notFound(`Unknown blueprint: ${name}`);
        const r = q.changeGet.get(name, commitId) as ChangeRow | undefined;
        if (r === undefined) throw notFound(`Unknown commit: ${commitId}`);
        const old = JSON.parse(r.blueprint) as BlueprintJson;
        return commit(old, old.version, () => `${name}.toml reverted to commit ${commitId}`);
      });
    },
    /**
     * Tags the latest change with the next revision (1, 2, …); nothing happens when it already has
     * one. Returns the latest change. Throws `FORGE_ERR_STORE_NOT_FOUND` for an unknown blueprint.
     */
    tag(name: string): BlueprintChange {
      return tx(() => {
        const latest = q.changeLatest.get(name) as ChangeRow | undefined;
        if (latest === undefined) throw notFound(`Unknown blueprint: ${name}`);
        if (latest.revision === null) {
          const max = (q.maxRevision.get(name) as { r: number | null }).r ?? 0;
          latest.revision = max + 1;
          q.setRevision.run(latest.revision, latest.seq);
        }
        return changeOf(latest);
      });
    },
    /** Deletes the blueprint, its history and its workspace copy; false when there was nothing. */
    delete(name: string): boolean {
      return tx(() => {
        const a = q.bpDelete.run(name).changes;
        const b = q.wsDelete.run(name).changes;
        return a + b > 0;
      });
    },
    workspace: {
      /** Saves an unsaved edit (`POST blueprints/workspace`): no change, no version bump. */
      put(bp: BlueprintJson): void {
        checkName(bp.name, 'blueprint');
        q.wsPut.run(bp.name, JSON.stringify(bp), iso());
      },
      get(name: string): BlueprintJson | undefined {
        const r = q.wsGet.get(name) as { blueprint: string } | undefined;
        return r === undefined ? undefined : (JSON.parse(r.blueprint) as BlueprintJson);
      },
      /** Drops the workspace copy; false when there was none. */
      delete(name: string): boolean {
        return q.wsDelete.run(name).changes > 0;
      },
    },
    /** The workspace copy when there is one (`changed: true`), else the committed blueprint. */
    current(name: string): { blueprint: BlueprintJson; changed: boolean } | undefined {
      const ws = blueprints.workspace.get(name);
      if (ws !== undefined) return { blueprint: ws, changed: true };
      const bp = getBlueprint(name);
      return bp === undefined ? undefined : { blueprint: bp.blueprint, changed: false };
    },
  };

  return blueprints;
}
