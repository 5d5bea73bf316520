import { randomBytes, randomUUID } from 'node:crypto';
import { blueprintNameProblem, versionOnPush } from '@debian-forge/blueprint';
import type { ComposePlan } from '@debian-forge/composer';
import Database from 'better-sqlite3';
import { StoreError, StoreErrorCode, TransitionError } from './errors.ts';
import { checkSchema, MIGRATIONS, type Migration, migrate, schemaVersion } from './migrations.ts';
import { type NameRepair, repairNames } from './repair.ts';
import { type ComposeState, canTransition, isComposeState } from './states.ts';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** A blueprint as JSON (normalized by `@debian-forge/blueprint`); the store only needs its name. */
export type BlueprintJson = { name: string; version?: string } & Record<string, unknown>;

export interface Page {
  /** Rows to skip, 0 by default. */
  offset?: number;
  /** Rows to return, 20 by default (Weldr's default); 0 returns only the total. */
  limit?: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

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

export interface SourceInput {
  /** The key: Weldr v0's `name`, v1's `id`. */
  name: string;
  /** The human name Weldr v1 shows beside the key (its `name`); the key when left out. */
  displayName?: string;
  type?: 'deb';
  url: string;
  suites?: string[];
  components?: string[];
  signedBy?: string[];
  checkGpg?: boolean;
  checkSsl?: boolean;
  system?: boolean;
  /** The distros (`debian-12` …) the source is used for; empty (the default) means every one. */
  distros?: string[];
}

export interface Source extends Required<SourceInput> {
  createdAt: string;
  updatedAt: string;
}

export interface ComposeInput {
  /** A random UUID when left out. */
  uuid?: string;
  blueprintName: string;
  blueprintVersion: string;
  blueprint?: BlueprintJson;
  imageType: string;
  distro: string;
  arch: string;
  size?: number;
  priority?: number;
  manifest?: unknown;
  /** How a worker runs the manifest; set with it. */
  build?: ComposeBuild;
  ostree?: { ref?: string; parent?: string; url?: string };
  /** The API that started the compose. */
  api?: ComposeApi;
  /** A Cloud API compose's request, as submitted (its metadata answers it). */
  request?: Record<string, unknown>;
}

/** The APIs that start composes; each API's compose routes see the composes it started. */
export type ComposeApi = 'weldr' | 'cloud' | 'forge';

/**
 * How a worker runs a compose's manifest and what the image holds: packages/composer's plan, whose
 * manifest is kept apart (a raw manifest has no packages: its layers are empty).
 */
export type ComposeBuild = Omit<ComposePlan, 'manifest'>;

export interface Compose {
  uuid: string;
  blueprintName: string;
  blueprintVersion: string;
  blueprint: BlueprintJson | null;
  imageType: string;
  distro: string;
  arch: string;
  size: number;
  priority: number;
  state: ComposeState;
  /** When the compose entered each state it has been in. */
  stateTimes: Partial<Record<ComposeState, string>>;
  jobId: string | null;
  workerId: string | null;
  error: unknown;
  manifest: unknown;
  /** How a worker runs the manifest; null until the manifest is made (and for rows of schema < 3). */
  build: ComposeBuild | null;
  ostree: { ref: string | null; parent: string | null; url: string | null };
  /** The API that started it; null for rows from before the store kept it (schema < 4). */
  api: ComposeApi | null;
  /** A Cloud API compose's request as submitted; null for the others. */
  request: Record<string, unknown> | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TransitionOptions {
  jobId?: string;
  workerId?: string;
  /** The reason of a FAILED (or CANCELLED) compose, kept as JSON. */
  error?: unknown;
}

export interface LogLine {
  seq: number;
  line: string;
}

export interface ArtifactInput {
  uuid: string;
  filename: string;
  path: string;
  size: number;
  sha256: string;
  mimeType: string;
}

export interface Artifact extends ArtifactInput {
  id: number;
  createdAt: string;
}

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

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Weldr's timestamp format, "2006-01-02T15:04:05Z" (UTC, whole seconds). */
export function weldrTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const STATE_COLUMN: Record<ComposeState, string> = {
  PENDING: 'pending_at',
  QUEUED: 'queued_at',
  BUILDING: 'building_at',
  COMPLETED: 'completed_at',
  FAILED: 'failed_at',
  CANCELLED: 'cancelled_at',
};

function page(p: Page | undefined): { offset: number; limit: number } {
  const offset = p?.offset ?? 0;
  const limit = p?.limit ?? 20;
  for (const [k, v] of [
    ['offset', offset],
    ['limit', limit],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new StoreError(StoreErrorCode.Invalid, `invalid value for '${k}': ${v}`);
    }
  }
  return { offset, limit };
}

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function notFound(what: string): StoreError {
  return new StoreError(StoreErrorCode.NotFound, what);
}

interface ComposeRow {
  uuid: string;
  blueprint_name: string;
  blueprint_version: string;
  blueprint: string | null;
  image_type: string;
  distro: string;
  arch: string;
  size: number;
  priority: number;
  state: string;
  pending_at: string | null;
  queued_at: string | null;
  building_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  cancelled_at: string | null;
  job_id: string | null;
  worker_id: string | null;
  error: string | null;
  manifest: string | null;
  build: string | null;
  ostree_ref: string | null;
  ostree_parent: string | null;
  ostree_url: string | null;
  api: string | null;
  request: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function composeOf(r: ComposeRow): Compose {
  if (!isComposeState(r.state))
    throw new StoreError(StoreErrorCode.Invalid, `compose ${r.uuid}: bad state ${r.state}`);
  const stateTimes: Partial<Record<ComposeState, string>> = {};
  for (const [state, column] of Object.entries(STATE_COLUMN) as [ComposeState, keyof ComposeRow][]) {
    const at = r[column];
    if (typeof at === 'string') stateTimes[state] = at;
  }
  return {
    uuid: r.uuid,
    blueprintName: r.blueprint_name,
    blueprintVersion: r.blueprint_version,
    blueprint: parseJson<BlueprintJson>(r.blueprint),
    imageType: r.image_type,
    distro: r.distro,
    arch: r.arch,
    size: r.size,
    priority: r.priority,
    state: r.state,
    stateTimes,
    jobId: r.job_id,
    workerId: r.worker_id,
    error: parseJson(r.error),
    manifest: parseJson(r.manifest),
    build: parseJson<ComposeBuild>(r.build),
    ostree: { ref: r.ostree_ref, parent: r.ostree_parent, url: r.ostree_url },
    api: r.api as ComposeApi | null, // the column's CHECK allows only ComposeApi's names
    request: parseJson<Record<string, unknown>>(r.request),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

interface SourceRow {
  name: string;
  display_name: string;
  type: string;
  url: string;
  suites: string;
  components: string;
  signed_by: string;
  check_gpg: number;
  check_ssl: number;
  system: number;
  distros: string;
  created_at: string;
  updated_at: string;
}

function sourceOf(r: SourceRow): Source {
  return {
    name: r.name,
    displayName: r.display_name,
    type: 'deb',
    url: r.url,
    suites: JSON.parse(r.suites) as string[],
    components: JSON.parse(r.components) as string[],
    signedBy: JSON.parse(r.signed_by) as string[],
    checkGpg: r.check_gpg === 1,
    checkSsl: r.check_ssl === 1,
    system: r.system === 1,
    distros: JSON.parse(r.distros) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

interface ArtifactRow {
  id: number;
  uuid: string;
  filename: string;
  path: string;
  size: number;
  sha256: string;
  mime_type: string;
  created_at: string;
}

function artifactOf(r: ArtifactRow): Artifact {
  return {
    id: r.id,
    uuid: r.uuid,
    filename: r.filename,
    path: r.path,
    size: r.size,
    sha256: r.sha256,
    mimeType: r.mime_type,
    createdAt: r.created_at,
  };
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

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

  const tx = <T>(fn: () => T): T => db.transaction(fn).immediate();

  // --- blueprints -------------------------------------------------------------------------------

  const q = {
    bpGet: db.prepare('SELECT * FROM blueprints WHERE name = ?'),
    bpInsert: db.prepare(
      'INSERT INTO blueprints (name, version, blueprint, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    bpUpdate: db.prepare('UPDATE blueprints SET version = ?, blueprint = ?, updated_at = ? WHERE name = ?'),
    bpDelete: db.prepare('DELETE FROM blueprints WHERE name = ?'),
    bpCount: db.prepare('SELECT count(*) AS n FROM blueprints'),
    bpNames: db.prepare('SELECT name FROM blueprints ORDER BY name LIMIT ? OFFSET ?'),
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

  /**
   * Refuses a name the rule refuses (`FORGE_ERR_STORE_INVALID`): whatever is stored can then always
   * travel in an API path, to be read and deleted. The API checks names first, with its own errors.
   */
  const checkName = (name: unknown, what: 'blueprint' | 'source') => {
    if (typeof name !== 'string' || name === '') {
      throw new StoreError(StoreErrorCode.Invalid, `a ${what} needs a name`);
    }
    const problem = blueprintNameProblem(name, what);
    if (problem !== undefined) throw new StoreError(StoreErrorCode.Invalid, problem);
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
      const items =
        limit === 0 ? [] : (q.bpNames.all(limit, offset) as { name: string }[]).map((r) => r.name);
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

  // --- sources ----------------------------------------------------------------------------------

  const s = {
    get: db.prepare('SELECT * FROM sources WHERE name = ?'),
    all: db.prepare('SELECT * FROM sources ORDER BY name'),
    upsert: db.prepare(
      `INSERT INTO sources (name, display_name, type, url, suites, components, signed_by, check_gpg, check_ssl, system, distros, created_at, updated_at)
       VALUES (@name, @display_name, 'deb', @url, @suites, @components, @signed_by, @check_gpg, @check_ssl, @system, @distros, @now, @now)
       ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, url = excluded.url,
         suites = excluded.suites, components = excluded.components, signed_by = excluded.signed_by,
         check_gpg = excluded.check_gpg, check_ssl = excluded.check_ssl, system = excluded.system,
         distros = excluded.distros, updated_at = excluded.updated_at`,
    ),
    delete: db.prepare('DELETE FROM sources WHERE name = ?'),
  };

  const sources = {
    /**
     * Adds or replaces a source. A system source (`system: true`) can only be replaced by another
     * system source: a user's `put` over it is refused with `FORGE_ERR_STORE_SYSTEM_SOURCE`.
     */
    put(input: SourceInput): Source {
      checkName(input.name, 'source');
      return tx(() => {
        if (input.type !== undefined && input.type !== 'deb') {
          throw new StoreError(StoreErrorCode.Invalid, `source ${input.name}: type must be "deb"`);
        }
        const old = s.get.get(input.name) as SourceRow | undefined;
        if (old?.system === 1 && input.system !== true) {
          throw new StoreError(
            StoreErrorCode.SystemSource,
            `${input.name} is a system source, it cannot be changed`,
          );
        }
        s.upsert.run({
          name: input.name,
          display_name: input.displayName ?? input.name,
          url: input.url,
          suites: JSON.stringify(input.suites ?? []),
          components: JSON.stringify(input.components ?? []),
          signed_by: JSON.stringify(input.signedBy ?? []),
          check_gpg: input.checkGpg === false ? 0 : 1,
          check_ssl: input.checkSsl === false ? 0 : 1,
          system: input.system === true ? 1 : 0,
          distros: JSON.stringify(input.distros ?? []),
          now: iso(),
        });
        return sourceOf(s.get.get(input.name) as SourceRow);
      });
    },
    get(name: string): Source | undefined {
      const r = s.get.get(name) as SourceRow | undefined;
      return r === undefined ? undefined : sourceOf(r);
    },
    /** Every source, by name. */
    list(): Source[] {
      return (s.all.all() as SourceRow[]).map(sourceOf);
    },
    /** Deletes a user's source; false when unknown; system sources are refused. */
    delete(name: string): boolean {
      return tx(() => {
        const old = s.get.get(name) as SourceRow | undefined;
        if (old === undefined) return false;
        if (old.system === 1) {
          throw new StoreError(
            StoreErrorCode.SystemSource,
            `${name} is a system source, it cannot be deleted`,
          );
        }
        return s.delete.run(name).changes > 0;
      });
    },
  };

  // --- composes ---------------------------------------------------------------------------------

  // Compose ids are stored lower-case (randomUUID's form); every statement that takes one reads it
  // with lower(), so an upper-case id finds its compose through every API, as in osbuild-composer
  // (which parses ids with a UUID library).
  const c = {
    get: db.prepare('SELECT * FROM composes WHERE uuid = lower(?)'),
    insert: db.prepare(
      `INSERT INTO composes (uuid, blueprint_name, blueprint_version, blueprint, image_type, distro, arch,
         size, priority, state, pending_at, manifest, build, ostree_ref, ostree_parent, ostree_url, api, request,
         created_at)
       VALUES (lower(@uuid), @blueprint_name, @blueprint_version, @blueprint, @image_type, @distro, @arch,
         @size, @priority, 'PENDING', @now, @manifest, @build, @ostree_ref, @ostree_parent, @ostree_url, @api,
         @request, @now)`,
    ),
    delete: db.prepare('DELETE FROM composes WHERE uuid = lower(?)'),
    setManifest: db.prepare('UPDATE composes SET manifest = ?, build = ? WHERE uuid = lower(?)'),
    setPriority: db.prepare('UPDATE composes SET priority = ? WHERE uuid = lower(?)'),
    setJob: db.prepare('UPDATE composes SET job_id = ? WHERE uuid = lower(?)'),
    active: db.prepare(
      "SELECT * FROM composes WHERE state IN ('PENDING', 'QUEUED', 'BUILDING') ORDER BY priority DESC, created_at, rowid",
    ),
    byJob: db.prepare('SELECT * FROM composes WHERE job_id = ?'),
    logNext: db.prepare('SELECT coalesce(max(seq), 0) + 1 AS n FROM compose_logs WHERE uuid = lower(?)'),
    logInsert: db.prepare('INSERT INTO compose_logs (uuid, seq, line) VALUES (lower(?), ?, ?)'),
    logRead: db.prepare(
      'SELECT seq, line FROM compose_logs WHERE uuid = lower(?) AND seq > ? ORDER BY seq LIMIT ?',
    ),
  };

  const getCompose = (uuid: string): Compose | undefined => {
    const r = c.get.get(uuid) as ComposeRow | undefined;
    return r === undefined ? undefined : composeOf(r);
  };
  const mustCompose = (uuid: string): ComposeRow => {
    const r = c.get.get(uuid) as ComposeRow | undefined;
    if (r === undefined) throw notFound(`compose ${uuid} does not exist`);
    return r;
  };

  const composes = {
    /** Records a new compose in PENDING. Throws `FORGE_ERR_STORE_EXISTS` for a uuid in use. */
    create(input: ComposeInput): Compose {
      const uuid = input.uuid ?? newUuid();
      return tx(() => {
        if (c.get.get(uuid) !== undefined) {
          throw new StoreError(StoreErrorCode.Exists, `compose ${uuid} already exists`);
        }
        c.insert.run({
          uuid,
          blueprint_name: input.blueprintName,
          blueprint_version: input.blueprintVersion,
          blueprint: json(input.blueprint),
          image_type: input.imageType,
          distro: input.distro,
          arch: input.arch,
          size: input.size ?? 0,
          priority: input.priority ?? 0,
          manifest: json(input.manifest),
          build: json(input.build),
          ostree_ref: input.ostree?.ref ?? null,
          ostree_parent: input.ostree?.parent ?? null,
          ostree_url: input.ostree?.url ?? null,
          api: input.api ?? null,
          request: json(input.request),
          now: iso(),
        });
        return composeOf(c.get.get(uuid) as ComposeRow);
      });
    },
    get: getCompose,
    /**
     * Composes, newest first, optionally only those in `states`, of one blueprint or started by
     * one of `apis` (null: rows from before the store kept it); `limit: 0` gives only the total.
     */
    list(
      filter: {
        states?: readonly ComposeState[];
        blueprintName?: string;
        apis?: readonly (ComposeApi | null)[];
      } & Page = {},
    ): Paged<Compose> {
      const { offset, limit } = page(filter);
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.states !== undefined) {
        if (filter.states.length === 0) return { items: [], total: 0, offset, limit };
        where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
        args.push(...filter.states);
      }
      if (filter.blueprintName !== undefined) {
        where.push('blueprint_name = ?');
        args.push(filter.blueprintName);
      }
      if (filter.apis !== undefined) {
        const named = filter.apis.filter((a) => a !== null);
        const either = [
          ...(named.length > 0 ? [`api IN (${named.map(() => '?').join(', ')})`] : []),
          ...(filter.apis.includes(null) ? ['api IS NULL'] : []),
        ];
        if (either.length === 0) return { items: [], total: 0, offset, limit };
        where.push(`(${either.join(' OR ')})`);
        args.push(...named);
      }
      const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const total = (db.prepare(`SELECT count(*) AS n FROM composes ${w}`).get(...args) as { n: number }).n;
      const rows =
        limit === 0
          ? []
          : (db
              .prepare(`SELECT * FROM composes ${w} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
              .all(...args, limit, offset) as ComposeRow[]);
      return { items: rows.map(composeOf), total, offset, limit };
    },
    /**
     * Moves a compose to `to` in one transaction, stamping the state's time (and `started_at` on
     * BUILDING, `finished_at` on COMPLETED/FAILED/CANCELLED). A move the state machine does not
     * allow throws a `TransitionError` (`FORGE_ERR_STORE_TRANSITION`); an unknown compose
     * `FORGE_ERR_STORE_NOT_FOUND`.
     */
    transition(uuid: string, to: ComposeState, opts: TransitionOptions = {}): Compose {
      return tx(() => {
        const r = mustCompose(uuid);
        if (!isComposeState(r.state) || !isComposeState(to) || !canTransition(r.state, to)) {
          throw new TransitionError(uuid, r.state, to);
        }
        const now = iso();
        const sets = ['state = @to', `${STATE_COLUMN[to]} = @now`];
        if (to === 'BUILDING') sets.push('started_at = @now');
        if (to === 'COMPLETED' || to === 'FAILED' || to === 'CANCELLED') sets.push('finished_at = @now');
        if (opts.jobId !== undefined) sets.push('job_id = @jobId');
        if (opts.workerId !== undefined) sets.push('worker_id = @workerId');
        if (opts.error !== undefined) sets.push('error = @error');
        db.prepare(`UPDATE composes SET ${sets.join(', ')} WHERE uuid = lower(@uuid)`).run({
          to,
          now,
          uuid,
          jobId: opts.jobId ?? null,
          workerId: opts.workerId ?? null,
          error: json(opts.error),
        });
        return composeOf(c.get.get(uuid) as ComposeRow);
      });
    },
    /**
     * Every compose not yet finished (PENDING, QUEUED, BUILDING), highest priority first, then
     * oldest: what the API reconciles with the queue when it starts.
     */
    active(): Compose[] {
      return (c.active.all() as ComposeRow[]).map(composeOf);
    },
    /** The compose of a queue job, or undefined. */
    byJob(jobId: string): Compose | undefined {
      const r = c.byJob.get(jobId) as ComposeRow | undefined;
      return r === undefined ? undefined : composeOf(r);
    },
    /** The compose's manifest and how a worker runs it (none for a compose no worker builds). */
    setManifest(uuid: string, manifest: unknown, build?: ComposeBuild): void {
      tx(() => {
        mustCompose(uuid);
        c.setManifest.run(json(manifest), json(build), uuid);
      });
    },
    setPriority(uuid: string, priority: number): void {
      if (!Number.isSafeInteger(priority))
        throw new StoreError(StoreErrorCode.Invalid, `bad priority ${priority}`);
      tx(() => {
        mustCompose(uuid);
        c.setPriority.run(priority, uuid);
      });
    },
    setJob(uuid: string, jobId: string): void {
      tx(() => {
        mustCompose(uuid);
        c.setJob.run(jobId, uuid);
      });
    },
    /**
     * Deletes a compose with its log and artifact rows; returns the artifacts that were indexed so
     * the caller can remove their files, or undefined when the compose does not exist.
     */
    delete(uuid: string): Artifact[] | undefined {
      return tx(() => {
        if (c.get.get(uuid) === undefined) return undefined;
        const gone = artifacts.list(uuid);
        c.delete.run(uuid);
        return gone;
      });
    },
    log: {
      /** Appends lines (log lines or JSON-seq records) in order; returns the last sequence number. */
      append(uuid: string, lines: string | readonly string[]): number {
        const list = typeof lines === 'string' ? [lines] : lines;
        return tx(() => {
          mustCompose(uuid);
          let n = (c.logNext.get(uuid) as { n: number }).n;
          for (const line of list) c.logInsert.run(uuid, n++, line);
          return n - 1;
        });
      },
      /** Lines after sequence number `after` (0: from the start), at most `limit`. */
      read(uuid: string, opts: { after?: number; limit?: number } = {}): LogLine[] {
        return c.logRead.all(uuid, opts.after ?? 0, opts.limit ?? -1) as LogLine[];
      },
    },
  };

  // --- artifacts --------------------------------------------------------------------------------

  // Compose ids read with lower(), as in the compose statements above.
  const a = {
    insert: db.prepare(
      `INSERT INTO artifacts (uuid, filename, path, size, sha256, mime_type, created_at)
       VALUES (lower(@uuid), @filename, @path, @size, @sha256, @mime_type, @now)`,
    ),
    byId: db.prepare('SELECT * FROM artifacts WHERE id = ?'),
    get: db.prepare('SELECT * FROM artifacts WHERE uuid = lower(?) AND filename = ?'),
    list: db.prepare('SELECT * FROM artifacts WHERE uuid = lower(?) ORDER BY id'),
    delete: db.prepare('DELETE FROM artifacts WHERE uuid = lower(?) AND filename = ?'),
  };

  const artifacts = {
    /** Indexes an artifact file of a compose. Throws for an unknown compose or a file name in use. */
    add(input: ArtifactInput): Artifact {
      if (!/^[0-9a-f]{64}$/.test(input.sha256)) {
        throw new StoreError(
          StoreErrorCode.Invalid,
          `artifact ${input.filename}: sha256 must be 64 lowercase hex digits`,
        );
      }
      if (!Number.isSafeInteger(input.size) || input.size < 0) {
        throw new StoreError(StoreErrorCode.Invalid, `artifact ${input.filename}: bad size ${input.size}`);
      }
      return tx(() => {
        mustCompose(input.uuid);
        if (a.get.get(input.uuid, input.filename) !== undefined) {
          throw new StoreError(StoreErrorCode.Exists, `compose ${input.uuid} already has ${input.filename}`);
        }
        const { lastInsertRowid } = a.insert.run({
          uuid: input.uuid,
          filename: input.filename,
          path: input.path,
          size: input.size,
          sha256: input.sha256,
          mime_type: input.mimeType,
          now: iso(),
        });
        return artifactOf(a.byId.get(lastInsertRowid) as ArtifactRow);
      });
    },
    get(uuid: string, filename: string): Artifact | undefined {
      const r = a.get.get(uuid, filename) as ArtifactRow | undefined;
      return r === undefined ? undefined : artifactOf(r);
    },
    /** A compose's artifacts in the order they were added. */
    list(uuid: string): Artifact[] {
      return (a.list.all(uuid) as ArtifactRow[]).map(artifactOf);
    },
    delete(uuid: string, filename: string): boolean {
      return a.delete.run(uuid, filename).changes > 0;
    },
  };

  return {
    path,
    readonly,
    /** The names renamed at this open because the name rule refuses them (repair.ts), to be reported. */
    repaired: repaired as readonly NameRepair[],
    blueprints,
    sources,
    composes,
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
