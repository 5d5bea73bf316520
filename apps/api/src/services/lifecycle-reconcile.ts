/**
 * Reconciliation: the store compared with the queue, so a restarted API (or one whose Redis was
 * away) loses nothing. QUEUED and BUILDING composes get the outcome their job reached meanwhile
 * (and the log lines they missed), a compose whose job is gone ends FAILED (`FORGE_ERR_JOB_LOST`),
 * and at start-up PENDING ones (the API stopped while their manifest was being made) are planned
 * again.
 */
import { isRedisUnavailable, type LostJob } from '@debian-forge/queue';
import type { Compose } from '@debian-forge/store';
import { ApiErrorCode } from '../errors.ts';
import { failCompose, OWN_LOG_PREFIX } from './compose-rows.ts';
import type { LifecycleContext } from './lifecycle-context.ts';
import { finish, isActive, outcomeOf, toBuilding } from './lifecycle-outcome.ts';

export interface ReconcileReport {
  /** Composes whose state changed (uuid → new state). */
  changed: Record<string, string>;
  /** PENDING composes planned again. */
  replanned: string[];
  /** Jobs failed because their worker had died. */
  lost: LostJob[];
}

/** Reconciles every compose not ended at start-up; `lost` are the jobs failed just before. */
export async function reconcile(ctx: LifecycleContext, lost: LostJob[]): Promise<ReconcileReport> {
  const report: ReconcileReport = { changed: {}, replanned: [], lost };
  let redisAway = false;
  for (const compose of ctx.store.composes.active()) {
    if (compose.state === 'PENDING') {
      ctx.composes.replan(compose);
      report.replanned.push(compose.uuid);
    } else if (!redisAway) {
      try {
        await reconcileOne(ctx, compose, report);
      } catch (err) {
        if (!isRedisUnavailable(err)) throw err;
        redisAway = true; // the pass after start-up, or Redis coming back, looks again
      }
    }
  }
  return report;
}

/** Reconciles the QUEUED and BUILDING composes again, in the line of the events (ctx.run). */
export function reconcileQueued(ctx: LifecycleContext, report: ReconcileReport): void {
  ctx.run(async () => {
    for (const compose of ctx.store.composes.active()) {
      if (compose.state !== 'PENDING') await reconcileOne(ctx, compose, report);
    }
  });
}

async function reconcileOne(ctx: LifecycleContext, compose: Compose, report: ReconcileReport): Promise<void> {
  const { store, queue } = ctx;
  // A job being added now is not lost (its compose is QUEUED before the job exists).
  if (ctx.composes.queueing(compose.uuid)) return;
  const jobId = compose.jobId ?? `build-${compose.uuid}`;
  const info = await queue.getJob(jobId).catch((err) => {
    if (isRedisUnavailable(err)) throw err; // nothing is known: look again when Redis is back
    return undefined; // a job that does not parse is as good as lost
  });
  const current = store.composes.get(compose.uuid);
  if (!isActive(current)) return;
  if (!info) {
    const error = {
      code: ApiErrorCode.JobLost,
      message: 'the queue has no job for this compose (it was lost while the API was down)',
    };
    report.changed[current.uuid] = failCompose(ctx, current.uuid, error).state;
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
    const moved = toBuilding(ctx, current, info.worker);
    if (moved.state !== current.state) report.changed[current.uuid] = moved.state;
  } else if (info.status === 'completed' || info.status === 'failed') {
    finish(ctx, current, outcomeOf(info));
    const after = store.composes.get(current.uuid);
    if (after && after.state !== current.state) report.changed[current.uuid] = after.state;
  }
}
