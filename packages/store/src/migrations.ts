import type Database from 'better-sqlite3';
import { StoreError, StoreErrorCode } from './errors.ts';

/** One schema step. Versions start at 1 and follow each other; a released step never changes. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every schema step, in order. Add new steps at the end; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'blueprints, changes, workspace, sources, composes, logs, artifacts',
    sql: `
CREATE TABLE blueprints (
  name        TEXT PRIMARY KEY,
  version     TEXT NOT NULL,
  blueprint   TEXT NOT NULL,            -- normalized blueprint JSON
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE blueprint_changes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL REFERENCES blueprints(name) ON DELETE CASCADE,
  commit_id   TEXT NOT NULL UNIQUE CHECK (length(commit_id) = 40),
  timestamp   TEXT NOT NULL,            -- "2006-01-02T15:04:05Z"
  message     TEXT NOT NULL,
  revision    INTEGER,                  -- NULL until tagged
  blueprint   TEXT NOT NULL             -- the blueprint JSON at this change
) STRICT;
CREATE INDEX blueprint_changes_by_name ON blueprint_changes(name, seq);

CREATE TABLE blueprint_workspace (
  name        TEXT PRIMARY KEY,         -- may exist without a committed blueprint
  blueprint   TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE sources (
  name        TEXT PRIMARY KEY,
  type        TEXT NOT NULL DEFAULT 'deb' CHECK (type = 'deb'),
  url         TEXT NOT NULL,
  suites      TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
  components  TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
  signed_by   TEXT NOT NULL DEFAULT '[]',   -- JSON array: keyring paths or armoured keys
  check_gpg   INTEGER NOT NULL DEFAULT 1 CHECK (check_gpg IN (0, 1)),
  check_ssl   INTEGER NOT NULL DEFAULT 1 CHECK (check_ssl IN (0, 1)),
  system      INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE composes (
  uuid              TEXT PRIMARY KEY,
  blueprint_name    TEXT NOT NULL,
  blueprint_version TEXT NOT NULL,
  blueprint         TEXT,                 -- the committed blueprint JSON the compose was made from
  image_type        TEXT NOT NULL,
  distro            TEXT NOT NULL,
  arch              TEXT NOT NULL,
  size              INTEGER NOT NULL DEFAULT 0,
  priority          INTEGER NOT NULL DEFAULT 0,
  state             TEXT NOT NULL DEFAULT 'PENDING'
                    CHECK (state IN ('PENDING','QUEUED','BUILDING','COMPLETED','FAILED','CANCELLED')),
  pending_at        TEXT,
  queued_at         TEXT,
  building_at       TEXT,
  completed_at      TEXT,
  failed_at         TEXT,
  cancelled_at      TEXT,
  job_id            TEXT,
  worker_id         TEXT,
  error             TEXT,                 -- JSON
  manifest          TEXT,                 -- JSON
  ostree_ref        TEXT,
  ostree_parent     TEXT,
  ostree_url        TEXT,
  created_at        TEXT NOT NULL,
  started_at        TEXT,
  finished_at       TEXT
) STRICT;
CREATE INDEX composes_by_state ON composes(state, priority DESC, created_at);
CREATE INDEX composes_by_created ON composes(created_at, uuid);

CREATE TABLE compose_logs (
  uuid        TEXT NOT NULL REFERENCES composes(uuid) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  line        TEXT NOT NULL,            -- a log line, or one JSON-seq record
  PRIMARY KEY (uuid, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE artifacts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid        TEXT NOT NULL REFERENCES composes(uuid) ON DELETE CASCADE,
  filename    TEXT NOT NULL,
  path        TEXT NOT NULL,
  size        INTEGER NOT NULL,
  sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
  mime_type   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  UNIQUE (uuid, filename)
) STRICT;
`,
  },
  {
    version: 2,
    name: 'sources: display name apart from the key, distros',
    // Weldr v1 keys a source by `id` and shows a human `name` beside it; v0 keys it by that name.
    // The key stays in `name`; a row from before this step gets its key as its display name.
    // `distros` limits where a source is used; an empty list means every distro.
    sql: `
ALTER TABLE sources ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
UPDATE sources SET display_name = name;
ALTER TABLE sources ADD COLUMN distros TEXT NOT NULL DEFAULT '[]';   -- JSON array of distro names
`,
  },
  {
    version: 3,
    name: 'composes: how a worker runs the manifest (exports, artifact file name, checkpoints)',
    // A build job in Redis carries only its compose's id; the worker asks the API for the plan, and
    // the API answers from this row (manifest + build), never from what Redis holds. Rows from
    // before this step have none: their old-style jobs are refused by the workers anyway.
    sql: `
ALTER TABLE composes ADD COLUMN build TEXT;   -- JSON {exports, filename, checkpoints?}
`,
  },
  {
    version: 4,
    name: "composes: the whole build plan (the artifact's MIME type, the packages of each layer)",
    // The build column holds packages/composer's plan without its manifest: {exports, artifact:
    // {filename, mimeType}, checkpoints, layers}. A plan of an earlier version knew no packages
    // (none are guessed: its layers are empty); its artifact's MIME type is its image type's, as
    // the image types of this version give them.
    sql: `
UPDATE composes SET build = json_object(
  'exports', json(json_extract(build, '$.exports')),
  'artifact', json_object(
    'filename', json_extract(build, '$.filename'),
    'mimeType', CASE image_type
      WHEN 'tar' THEN 'application/x-tar'
      WHEN 'debian-atomic-commit' THEN 'application/x-tar'
      WHEN 'qcow2' THEN 'application/x-qemu-disk'
      WHEN 'debian-atomic-qcow2' THEN 'application/x-qemu-disk'
      ELSE 'application/octet-stream' END),
  'checkpoints', json(coalesce(json_extract(build, '$.checkpoints'), '[]')),
  'layers', json('[]'))
WHERE build IS NOT NULL;
`,
  },
  {
    version: 5,
    name: 'composes: the API that started each, and a Cloud compose request as submitted',
    // composer-cli asks the Cloud API first and turns to Weldr only when the Cloud API says the
    // compose does not exist, so each API sees only its own composes; the Cloud API's metadata
    // answers its request. Rows from before this step have no API (NULL): only Weldr and the
    // Forge API see them, as the Cloud API could not start composes for composer-cli then.
    sql: `
ALTER TABLE composes ADD COLUMN api TEXT CHECK (api IN ('weldr', 'cloud', 'forge'));
ALTER TABLE composes ADD COLUMN request TEXT;   -- JSON: the Cloud API's compose request
`,
  },
  {
    version: 6,
    name: 'composes: the OSTree commit a compose made',
    // The worker reports the commit of an atomic compose with its result; the ref's next version
    // names it as its parent. Rows from before this step have none (NULL), as does every compose
    // that made no commit. Only a checksum (64 lower-case hexadecimal digits) is taken.
    sql: `
ALTER TABLE composes ADD COLUMN ostree_commit TEXT
  CHECK (ostree_commit IS NULL OR (length(ostree_commit) = 64 AND ostree_commit NOT GLOB '*[^0-9a-f]*'));
`,
  },
];

/** The schema version this code writes. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0;
}

/** The highest applied schema version, 0 for an empty database. */
export function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function refuseNewer(path: string, current: number, latest: number): StoreError {
  return new StoreError(
    StoreErrorCode.Schema,
    `database ${path} has schema version ${current}, newer than ${latest}, the newest this program knows: ` +
      'run a newer debian-forge, or restore a database it wrote',
  );
}

/**
 * Applies the missing migrations in one transaction (all or none) and returns the resulting version.
 * A database newer than the code is refused with a `FORGE_ERR_STORE_SCHEMA` error.
 */
export function migrate(
  db: Database.Database,
  now: () => string,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name}: version ${m.version}, expected ${i + 1}`);
  });
  const latest = latestVersion(migrations);
  const apply = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    const current = schemaVersion(db);
    if (current > latest) throw refuseNewer(db.name, current, latest);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    // One time for every step of this open: they are applied together, in one transaction.
    let appliedAt: string | undefined;
    for (const m of migrations) {
      if (m.version <= current) continue;
      try {
        db.exec(m.sql);
      } catch (cause) {
        throw new StoreError(
          StoreErrorCode.Schema,
          `database ${db.name}: migration ${m.version} (${m.name}) failed: ${(cause as Error).message}`,
          { cause },
        );
      }
      appliedAt ??= now();
      record.run(m.version, m.name, appliedAt);
    }
    return latest;
  });
  return apply.immediate();
}

/** For read-only connections: the schema must be exactly the one this code knows. */
export function checkSchema(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = schemaVersion(db);
  const latest = latestVersion(migrations);
  if (current > latest) throw refuseNewer(db.name, current, latest);
  if (current < latest) {
    throw new StoreError(
      StoreErrorCode.Schema,
      `database ${db.name} has schema version ${current}, older than ${latest}: open it for writing once to migrate it`,
    );
  }
}
