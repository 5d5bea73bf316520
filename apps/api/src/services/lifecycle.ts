/**
 * The API side of a compose's life: what the queue reports becomes store transitions, log lines
 * and events.
 *
 * - `active` → BUILDING (with the worker's name); `progress` → an event; `log` → a store log line
 *   and an event;
 * - `completed` with `success` and the artifact uploaded (the store has it, same sha256) →
 *   COMPLETED; without it → FAILED (`FORGE_ERR_ARTIFACT_MISSING`, or the worker's error);
 * - `failed` → FAILED with the reason (`FORGE_ERR_WORKER_LOST` when the supervisor of stalled jobs
 *   failed it, see packages/queue STALL_POLICY); a compose already CANCELLED stays so.
 *
 * Events are handled one at a time, in order. At start-up, before following events,
 * `reconcile` compares the store with the queue, so a restarted API loses nothing: QUEUED and
 * BUILDING composes get the outcome their job reached meanwhile (and the log lines they missed),
 * a compose whose job is gone ends FAILED (`FORGE_ERR_JOB_LOST`), and PENDING ones (the API
 * stopped while their manifest was being made) are planned again. Before that, jobs whose worker
 * is known to be dead are failed (`FORGE_ERR_WORKER_LOST`, "its worker <name> died"; see
 * ForgeQueue.failJobsOfDeadWorkers): a service restarted after SIGKILL fails the build its own
 * worker of before was running at once, instead of a minute later when the job's lock expires.
 *
 * Then every `checkIntervalMs` the BUILDING composes are looked at again: a job whose worker died
 * since is failed the same way, and a compose whose job ended without its outcome being stored
 * (an event handled while the database could not be written: a full disk) gets it now.
 *
 * Redis away: the queue's event stream waits for it and goes on from the last event it read; what
 * a handler could not read from Redis meanwhile (FORGE_ERR_REDIS_UNAVAILABLE) is dropped without a
 * report (the queue's `redis` event is the one report of the outage), and when Redis is back the
 * QUEUED and BUILDING composes are reconciled again, as at start-up: what happened to their jobs
 * while nobody could look (or a job a killed Redis lost) is caught up.
 */
import { processGone } from '@debian-forge/host';
import {
  type BuildResult,
  type ForgeQueue,
  isRedisUnavailable,
  type JobError,
  type LostJob,
  QueueErrorCode,
  type RedisState,
  type WorkerEvent,
  type WorkerProcess,
} from '@debian-forge/queue';
import type { Compose, Store } from '@debian-forge/store';
import { ApiErrorCode } from '../errors.ts';
import type { ComposeEvents } from '../events.ts';
import { moveCompose, OWN_LOG_PREFIX, ownLog } from './compose-rows.ts';
import type { ComposeServiceForLifecycle } from './composes.ts';

export interface LifecycleDeps {
  store: Store;
  queue: ForgeQueue;
  events: ComposeEvents;
  composes: ComposeServiceForLifecycle;
}

export interface LifecycleOptions {
  /** How often stalled jobs (dead workers) are looked for; must match the workers'. Default 30 s. */
  stalledIntervalMs?: number;
  /** The workers' lock duration; default 30 s. */
  lockDurationMs?: number;
  /** Where errors of event handling go (default: stderr). */
  onError?: (err: unknown) => void;
  /** How often BUILDING composes are looked at again (dead workers, outcomes not stored); 2 s. */
  checkIntervalMs?: number;
  /** Whether a worker's announced process has ended; the host layer's `processGone` by default. */
  processGone?: (p: WorkerProcess) => boolean;
}

export interface Lifecycle {
  /** What reconciliation found at start-up. */
  reconciled: ReconcileReport;
  /** Resolves when every event received so far has been handled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReconcileReport {
  /** Composes whose state changed (uuid → new state). */
  changed: Record<string, string>;
  /** PENDING composes planned again. */
  replanned: string[];
  /** Jobs failed because their worker had died. */
  lost: LostJob[];
}

const ARTIFACT_MISSING = QueueErrorCode.ARTIFACT_MISSING;
const JOB_LOST = ApiErrorCode.JobLost;

/**
 * Reconciles the store with the queue, then follows the queue's events (and supervises stalled
 * jobs) until `stop()`. `forge serve` calls it once after building the app.
 */
export async function startComposeLifecycle(
  deps: LifecycleDeps,
  options: LifecycleOptions = {},
): Promise<Lifecycle> {
  const { store, queue, events } = deps;
  const onError = options.onError ?? ((err) => process.stderr.write(`compose lifecycle: ${String(err)}\n`));
  let chain: Promise<void> = Promise.resolve();
  const run = (fn: () => unknown) => {
    chain = chain.then(fn).catch((err) => {
      if (!isRedisUnavailable(err)) onError(err); // else caught up when Redis is back
    }) as Promise<void>;
  };
  const active = (compose: Compose | undefined): compose is Compose =>
    compose !== undefined && (compose.state === 'QUEUED' || compose.state === 'BUILDING');

  const toBuilding = (compose: Compose, worker?: string): Compose =>
    compose.state === 'QUEUED'
      ? moveCompose(deps, compose.uuid, 'BUILDING', worker ? { workerId: worker } : {})
      : compose;

  const finish = (compose: Compose, outcome: { result?: BuildResult; error?: JobError }) => {
    if (!active(compose)) return;
    const { uuid } = compose;
    if (outcome.error) {
      if (outcome.error.code === QueueErrorCode.CANCELLED) {
        moveCompose(deps, uuid, 'CANCELLED', { error: outcome.error });
        return;
      }
      ownLog(deps, uuid, `compose failed: ${outcome.error.message} [${outcome.error.code}]`);
      moveCompose(deps, uuid, 'FAILED', { error: outcome.error });
      return;
    }
    const result = outcome.result as BuildResult;
    const built = toBuilding(compose);
    if (!result.success) {
      const error = result.error ?? { code: QueueErrorCode.JOB_FAILED, message: 'the build failed' };
      ownLog(deps, uuid, `compose failed: ${error.message} [${error.code}]`);
      moveCompose(deps, built.uuid, 'FAILED', { error });
      return;
    }
    const want = result.artifact;
    const have = want ? store.artifacts.get(uuid, want.filename) : undefined;
    if (!want || !have || have.sha256 !== want.sha256) {
      const error = {
        code: ARTIFACT_MISSING,
        message: want
          ? `the worker reported ${want.filename} (sha256 ${want.sha256}) but the API has ${have ? `sha256 ${have.sha256}` : 'no such upload'}`
          : 'the worker reported success without an artifact',
      };
      ownLog(deps, uuid, `compose failed: ${error.message} [${error.code}]`);
      moveCompose(deps, uuid, 'FAILED', { error });
      return;
    }
    moveCompose(deps, uuid, 'COMPLETED');
  };

  const outcomeOf = (info: { result?: BuildResult; error?: JobError }) =>
    info.result
      ? { result: info.result }
      : { error: info.error ?? { code: QueueErrorCode.JOB_FAILED, message: '' } };

  const composeOfJob = (jobId: string) => store.composes.byJob(jobId);

  const onActive = (jobId: string) =>
    run(async () => {
      const compose = composeOfJob(jobId);
      if (compose?.state !== 'QUEUED') return;
      const info = await queue.getJob(jobId);
      const now = store.composes.get(compose.uuid);
      if (now?.state === 'QUEUED') toBuilding(now, info?.worker);
    });
  const onProgress = (jobId: string, ev: Extract<WorkerEvent, { kind: 'progress' }>) =>
    run(() => {
      const compose = composeOfJob(jobId);
      if (!compose) return;
      events.publish({
        type: 'progress',
        uuid: compose.uuid,
        done: ev.done,
        total: ev.total,
        ...(ev.message === undefined ? {} : { message: ev.message }),
      });
    });
  const onLog = (jobId: string, line: string) =>
    run(() => {
      const compose = composeOfJob(jobId);
      if (!compose) return;
      store.composes.log.append(compose.uuid, line);
      events.publish({ type: 'log', uuid: compose.uuid, line });
    });
  const onCompleted = (jobId: string, result: BuildResult) =>
    run(() => {
      const compose = composeOfJob(jobId);
      if (compose) finish(compose, { result });
    });
  const onFailed = (jobId: string, error: JobError) =>
    run(() => {
      const compose = composeOfJob(jobId);
      if (compose) finish(compose, { error });
    });

  const gone = options.processGone ?? processGone;
  const lost = await queue.failJobsOfDeadWorkers(gone).catch((err: unknown) => {
    if (!isRedisUnavailable(err)) onError(err); // else the look every few seconds does it later
    return [];
  });
  const reconciled = await reconcile(lost);

  queue.on('active', onActive);
  queue.on('progress', onProgress);
  queue.on('log', onLog);
  queue.on('completed', onCompleted);
  queue.on('failed', onFailed);
  const reconcileQueued = (report: ReconcileReport) =>
    run(async () => {
      for (const compose of store.composes.active()) {
        if (compose.state !== 'PENDING') await reconcileOne(compose, report);
      }
    });
  // Events of jobs that ended between reconcile() and the listeners above: look once more.
  reconcileQueued(reconciled);
  const onRedis = (state: RedisState) => {
    if (state.reachable) reconcileQueued({ changed: {}, replanned: [], lost: [] });
  };
  queue.on('redis', onRedis);
  await queue.superviseStalledJobs({
    ...(options.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: options.stalledIntervalMs }),
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
  });

  /** One look at the BUILDING composes (see the top). */
  let checking: Promise<void> | undefined;
  let failing = false;
  const check = async () => {
    try {
      await queue.failJobsOfDeadWorkers(gone);
      // BUILDING composes are at most as many as the workers' slots.
      const building = store.composes.list({ states: ['BUILDING'], limit: Number.MAX_SAFE_INTEGER }).items;
      for (const compose of building) {
        if (!compose.jobId) continue; // a fake (?test=2) compose: no job
        const info = await queue.getJob(compose.jobId);
        if (info?.status !== 'completed' && info?.status !== 'failed') continue;
        run(() => {
          const current = store.composes.get(compose.uuid);
          if (current?.state === 'BUILDING') finish(current, outcomeOf(info));
        });
      }
      failing = false;
    } catch (err) {
      // Redis away is reported once, by the queue's `redis` event; anything else once a streak.
      if (!failing && !isRedisUnavailable(err)) onError(err);
      failing = true;
    }
  };
  const checkTimer = setInterval(() => {
    checking ??= check().finally(() => {
      checking = undefined;
    });
  }, options.checkIntervalMs ?? 2000);

  async function reconcileOne(compose: Compose, report: ReconcileReport): Promise<void> {
    // A job being added now is not lost (its compose is QUEUED before the job exists).
    if (deps.composes.queueing(compose.uuid)) return;
    const jobId = compose.jobId ?? `build-${compose.uuid}`;
    const info = await queue.getJob(jobId).catch((err) => {
      if (isRedisUnavailable(err)) throw err; // nothing is known: look again when Redis is back
      return undefined; // a job that does not parse is as good as lost
    });
    const current = store.composes.get(compose.uuid);
    if (!active(current)) return;
    if (!info) {
      const error = {
        code: JOB_LOST,
        message: 'the queue has no job for this compose (it was lost while the API was down)',
      };
      ownLog(deps, current.uuid, `compose failed: ${error.message} [${error.code}]`);
      report.changed[current.uuid] = moveCompose(deps, current.uuid, 'FAILED', { error }).state;
      return;
    }
    // Log lines written while nobody listened: append what the queue has beyond the worker's lines
    // the store has (the service's own lines carry OWN_LOG_PREFIX).
    const lines = await queue.getLogs(jobId);
    const stored = store.composes.log
      .read(current.uuid)
      .filter((l) => !l.line.startsWith(OWN_LOG_PREFIX)).length;
    if (lines.length > stored) store.composes.log.append(current.uuid, lines.slice(stored));
    if (info.status === 'active') {
      const moved = toBuilding(current, info.worker);
      if (moved.state !== current.state) report.changed[current.uuid] = moved.state;
    } else if (info.status === 'completed' || info.status === 'failed') {
      finish(current, outcomeOf(info));
      const after = store.composes.get(current.uuid);
      if (after && after.state !== current.state) report.changed[current.uuid] = after.state;
    }
  }

  async function reconcile(lost: LostJob[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { changed: {}, replanned: [], lost };
    let redisAway = false;
    for (const compose of store.composes.active()) {
      if (compose.state === 'PENDING') {
        deps.composes.replan(compose);
        report.replanned.push(compose.uuid);
      } else if (!redisAway) {
        try {
          await reconcileOne(compose, report);
        } catch (err) {
          if (!isRedisUnavailable(err)) throw err;
          redisAway = true; // the pass after start-up, or Redis coming back, looks again
        }
      }
    }
    return report;
  }

  return {
    reconciled,
    async idle() {
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
    async stop() {
      clearInterval(checkTimer);
      await checking;
      queue.off('redis', onRedis);
      queue.off('active', onActive);
      queue.off('progress', onProgress);
      queue.off('log', onLog);
      queue.off('completed', onCompleted);
      queue.off('failed', onFailed);
      await chain;
    },
  };
}
