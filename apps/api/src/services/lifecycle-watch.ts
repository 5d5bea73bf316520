/**
 * The BUILDING composes looked at again every few seconds: a job whose worker died since is
 * failed (`FORGE_ERR_WORKER_LOST`), and a compose whose job ended without its outcome being stored
 * (an event handled while the database could not be written: a full disk) gets it now.
 */
import { isRedisUnavailable } from '@debian-forge/queue';
import type { LifecycleContext } from './lifecycle-context.ts';
import { finish, outcomeOf } from './lifecycle-outcome.ts';

/** Looks every `intervalMs`, one look at a time; returns what stops looking (after the look running). */
export function watchBuilding(ctx: LifecycleContext, intervalMs: number): () => Promise<void> {
  const { store, queue } = ctx;
  let checking: Promise<void> | undefined;
  let failing = false;
  const check = async () => {
    try {
      await queue.failJobsOfDeadWorkers(ctx.gone);
      // BUILDING composes are at most as many as the workers' slots.
      const building = store.composes.list({ states: ['BUILDING'], limit: Number.MAX_SAFE_INTEGER }).items;
      for (const compose of building) {
        if (!compose.jobId) continue; // a fake (?test=2) compose: no job
        const info = await queue.getJob(compose.jobId);
        if (info?.status !== 'completed' && info?.status !== 'failed') continue;
        ctx.run(() => {
          const current = store.composes.get(compose.uuid);
          if (current?.state === 'BUILDING') finish(ctx, current, outcomeOf(info));
        });
      }
      failing = false;
    } catch (err) {
      // Redis away is reported once, by the queue's `redis` event; anything else once a streak.
      if (!failing && !isRedisUnavailable(err)) ctx.onError(err);
      failing = true;
    }
  };
  const timer = setInterval(() => {
    checking ??= check().finally(() => {
      checking = undefined;
    });
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await checking;
  };
}
