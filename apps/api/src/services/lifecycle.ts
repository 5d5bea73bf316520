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
 * Events are handled one at a time, in order (lifecycle-context.ts SerialHandler; the handlers are
 * in lifecycle-events.ts, what an outcome does in lifecycle-outcome.ts). At start-up, before
 * following events, `reconcile` (lifecycle-reconcile.ts) compares the store with the queue, so a restarted API loses nothing: QUEUED and
 * BUILDING composes get the outcome their job reached meanwhile (and the log lines they missed),
 * a compose whose job is gone ends FAILED (`FORGE_ERR_JOB_LOST`), and PENDING ones (the API
 * stopped while their manifest was being made) are planned again. Before that, jobs whose worker
 * is known to be dead are failed (`FORGE_ERR_WORKER_LOST`, "its worker <name> died"; see
 * ForgeQueue.failJobsOfDeadWorkers): a service restarted after SIGKILL fails the build its own
 * worker of before was running at once, instead of a minute later when the job's lock expires.
 * The OSTree repository is brought in line with the store too (ostree-repo.ts `reconcile`), in
 * its own line of work: the commits it lacks are pulled while the service already answers.
 *
 * Then every `checkIntervalMs` the BUILDING composes are looked at again (lifecycle-watch.ts): a job whose worker died
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
import { isRedisUnavailable, type WorkerProcess } from '@debian-forge/queue';
import { type LifecycleContext, type LifecycleDeps, SerialHandler } from './lifecycle-context.ts';
import { followQueue } from './lifecycle-events.ts';
import { type ReconcileReport, reconcile, reconcileQueued } from './lifecycle-reconcile.ts';
import { watchBuilding } from './lifecycle-watch.ts';

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

/**
 * Reconciles the store with the queue, then follows the queue's events (and supervises stalled
 * jobs) until `stop()`. `forge serve` calls it once after building the app.
 */
export async function startComposeLifecycle(
  deps: LifecycleDeps,
  options: LifecycleOptions = {},
): Promise<Lifecycle> {
  const onError = options.onError ?? ((err) => process.stderr.write(`compose lifecycle: ${String(err)}\n`));
  const handler = new SerialHandler(onError);
  // First in the repository's line, so a compose that completes meanwhile is published after it.
  void deps.ostree.reconcile();
  const ctx: LifecycleContext = {
    ...deps,
    run: (fn) => handler.run(fn),
    onError,
    gone: options.processGone ?? processGone,
  };
  const lost = await deps.queue.failJobsOfDeadWorkers(ctx.gone).catch((err: unknown) => {
    if (!isRedisUnavailable(err)) onError(err); // else the look every few seconds does it later
    return [];
  });
  const reconciled = await reconcile(ctx, lost);
  const unfollow = followQueue(ctx);
  // Events of jobs that ended between reconcile() and the listeners above: look once more.
  reconcileQueued(ctx, reconciled);
  await deps.queue.superviseStalledJobs({
    ...(options.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: options.stalledIntervalMs }),
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
  });
  const unwatch = watchBuilding(ctx, options.checkIntervalMs ?? 2000);
  return {
    reconciled,
    idle: () => handler.idle(),
    async stop() {
      await unwatch();
      unfollow();
      await handler.settled();
      await deps.ostree.idle();
    },
  };
}
