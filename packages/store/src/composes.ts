import type { ComposePlan } from '@debian-forge/composer';
import type { Artifact, ArtifactRepository } from './artifacts.ts';
import type { BlueprintJson } from './blueprints.ts';
import { json, notFound, type Page, type Paged, page, parseJson, type StoreDb } from './database.ts';
import { StoreError, StoreErrorCode, TransitionError } from './errors.ts';
import { type ComposeState, canTransition, isComposeState } from './states.ts';

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
  /** `commit`: the OSTree commit the compose made (null when none, and for rows of schema < 6). */
  ostree: { ref: string | null; parent: string | null; url: string | null; commit: string | null };
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
  /** The OSTree commit a COMPLETED compose made (64 hexadecimal digits). */
  ostreeCommit?: string;
}

export interface LogLine {
  seq: number;
  line: string;
}

const STATE_COLUMN: Record<ComposeState, string> = {
  PENDING: 'pending_at',
  QUEUED: 'queued_at',
  BUILDING: 'building_at',
  COMPLETED: 'completed_at',
  FAILED: 'failed_at',
  CANCELLED: 'cancelled_at',
};

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
  ostree_commit: string | null;
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
    ostree: { ref: r.ostree_ref, parent: r.ostree_parent, url: r.ostree_url, commit: r.ostree_commit },
    api: r.api as ComposeApi | null, // the column's CHECK allows only ComposeApi's names
    request: parseJson<Record<string, unknown>>(r.request),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/**
 * The composes repository (tables composes and compose_logs): a compose's row moves through the
 * state machine of states.ts; its log is appended line by line. Deleting a compose hands back the
 * artifacts indexed for it (read from `artifacts`; their rows go with the compose's).
 */
export function composeRepository(
  { db, tx, iso }: StoreDb,
  newUuid: () => string,
  artifacts: ArtifactRepository,
) {
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
        if (opts.ostreeCommit !== undefined) sets.push('ostree_commit = @ostreeCommit');
        db.prepare(`UPDATE composes SET ${sets.join(', ')} WHERE uuid = lower(@uuid)`).run({
          to,
          now,
          uuid,
          jobId: opts.jobId ?? null,
          workerId: opts.workerId ?? null,
          error: json(opts.error),
          ostreeCommit: opts.ostreeCommit ?? null,
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

  return composes;
}
