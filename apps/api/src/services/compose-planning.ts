/**
 * From a PENDING compose to a queued build: its manifest is made off the request path (apt runs for
 * seconds to minutes) and stored, then its build job is queued (QUEUED); an error of either step
 * ends the compose FAILED with the reason. See the top of composes.ts for who waits for it.
 */
import type { ComposeTargetResolved } from '@debian-forge/composer';
import { type BuildJob, jobIdOf } from '@debian-forge/queue';
import type { Compose } from '@debian-forge/store';
import { ComposeErrorCode } from '../errors.ts';
import type { ComposeContext } from './compose-context.ts';
import { errorOf, queueRefusal } from './compose-errors.ts';
import { checkTarget } from './compose-requests.ts';
import { failCompose, moveCompose, OWN_LOG_PREFIX, ownLog, TERMINAL } from './compose-rows.ts';
import { targetOf } from './planner.ts';

/**
 * How a manifest step ended: queued, made only (a test compose), ended another way meanwhile
 * (cancelled), or FAILED for `failed`.
 */
export type PlanOutcome = 'queued' | 'made' | 'gone' | { failed: unknown };

/**
 * The first line of a test compose's log, which tells it from a build at start-up: a test compose
 * still PENDING then is ended FAILED (its request is gone), never planned into a build.
 */
export const TEST_COMPOSE_LINE = 'a test compose: its manifest is made as for a build, which never runs';

/**
 * Queues a compose whose manifest and build are stored: job id first, QUEUED, then the job, which
 * names only the compose (the worker asks for the plan, see packages/queue's BuildJob).
 */
export async function enqueue(ctx: ComposeContext, compose: Compose): Promise<PlanOutcome> {
  const job: BuildJob = {
    type: 'build',
    composeId: compose.uuid,
    priority: compose.priority,
    resources: ctx.resources(compose),
  };
  // QUEUED before the job exists, so a worker's `active` always finds a QUEUED compose.
  moveCompose(ctx, compose.uuid, 'QUEUED', { jobId: jobIdOf(job) });
  ctx.queueing.add(compose.uuid);
  try {
    await ctx.queue.add(job);
    return 'queued';
  } catch (err) {
    return fail(ctx, compose.uuid, queueRefusal(err));
  } finally {
    ctx.queueing.delete(compose.uuid);
  }
}

/** Ends the compose FAILED with the reason, unless it has ended (or gone) meanwhile. */
export function fail(ctx: ComposeContext, uuid: string, err: unknown): PlanOutcome {
  const current = ctx.store.composes.get(uuid);
  if (!current || TERMINAL.includes(current.state)) return 'gone';
  failCompose(ctx, uuid, errorOf(err));
  return { failed: err };
}

/**
 * Makes and stores the plan of a PENDING compose (its target resolved when it was recorded, else
 * from its row), then hands it to `next` (the queue).
 */
export function plan(
  ctx: ComposeContext,
  compose: Compose,
  resolved?: ComposeTargetResolved,
  next: (compose: Compose) => Promise<PlanOutcome> = (c) => enqueue(ctx, c),
): Promise<PlanOutcome> {
  const work = (async (): Promise<PlanOutcome> => {
    try {
      const target = resolved ?? checkTarget(targetOf(compose));
      const { manifest, ...build } = await ctx.planner(target, (text) => ownLog(ctx, compose.uuid, text));
      const now = ctx.store.composes.get(compose.uuid);
      if (now?.state !== 'PENDING') return 'gone'; // cancelled (or deleted) meanwhile
      ctx.store.composes.setManifest(compose.uuid, manifest, build);
      return await next(now);
    } catch (err) {
      return fail(ctx, compose.uuid, err);
    }
  })();
  const tracked = work.then(() => undefined);
  ctx.planning.add(tracked);
  void tracked.finally(() => ctx.planning.delete(tracked));
  return work;
}

/** The plan's outcome, or 'waiting' after the context's `planWaitMs`. */
export async function waitFor(
  ctx: ComposeContext,
  work: Promise<PlanOutcome>,
): Promise<PlanOutcome | 'waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'waiting'>((resolve) => {
    timer = setTimeout(() => resolve('waiting'), ctx.planWaitMs);
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes the manifest of a PENDING compose again and queues it (reconciliation at start-up); a
 * test compose is ended FAILED instead.
 */
export function replan(ctx: ComposeContext, compose: Compose): void {
  const test = ctx.store.composes.log
    .read(compose.uuid)
    .some((l) => l.line === `${OWN_LOG_PREFIX}${TEST_COMPOSE_LINE}`);
  if (!test) void plan(ctx, compose);
  else {
    const error = {
      code: ComposeErrorCode.TestCompose,
      message: 'the service stopped while the manifest of this test compose was made',
    };
    fail(ctx, compose.uuid, error);
  }
}

/** Resolves when no manifest is being made. */
export async function pending(ctx: ComposeContext): Promise<void> {
  while (ctx.planning.size > 0) await Promise.allSettled([...ctx.planning]);
}
