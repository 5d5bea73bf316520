/**
 * The queue's events followed: `active` → BUILDING (with the worker's name); `progress` → an
 * event; `log` → a store log line and an event; `completed` and `failed` → the compose's end
 * (lifecycle-outcome.ts); Redis back → the QUEUED and BUILDING composes reconciled again, as at
 * start-up (what happened to their jobs while nobody could look is caught up). Each is handled in
 * the lifecycle's one line (ctx.run).
 */
import type { BuildResult, JobError, RedisState, WorkerEvent } from '@debian-forge/queue';
import type { LifecycleContext } from './lifecycle-context.ts';
import { finish, toBuilding } from './lifecycle-outcome.ts';
import { reconcileQueued } from './lifecycle-reconcile.ts';

/** Listens to the queue's events; returns what stops listening. */
export function followQueue(ctx: LifecycleContext): () => void {
  const { store, queue, events, run } = ctx;
  const composeOfJob = (jobId: string) => store.composes.byJob(jobId);
  const onActive = (jobId: string) =>
    run(async () => {
      const compose = composeOfJob(jobId);
      if (compose?.state !== 'QUEUED') return;
      const info = await queue.getJob(jobId);
      const now = store.composes.get(compose.uuid);
      if (now?.state === 'QUEUED') toBuilding(ctx, now, info?.worker);
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
      if (compose) finish(ctx, compose, { result });
    });
  const onFailed = (jobId: string, error: JobError) =>
    run(() => {
      const compose = composeOfJob(jobId);
      if (compose) finish(ctx, compose, { error });
    });
  const onRedis = (state: RedisState) => {
    if (state.reachable) reconcileQueued(ctx, { changed: {}, replanned: [], lost: [] });
  };
  // One list for both ways, so a listener added is always removed.
  const listen = (way: 'on' | 'off') => {
    queue[way]('active', onActive);
    queue[way]('progress', onProgress);
    queue[way]('log', onLog);
    queue[way]('completed', onCompleted);
    queue[way]('failed', onFailed);
    queue[way]('redis', onRedis);
  };
  listen('on');
  return () => listen('off');
}
