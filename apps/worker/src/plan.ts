/**
 * What a worker builds for a job: the plan the API serves for it
 * (`GET /api/forge/v1/composes/{uuid}/plan?job=ID`, packages/queue's BuildPlan), asked over the
 * API's channel (api.ts). A job in Redis names only its compose, and anyone who can write to Redis
 * can write one; the API answers only for a compose it queued under that job, so a job it did not
 * queue gets 404 or 409 here and is failed unbuilt (FORGE_ERR_PLAN_REFUSED).
 */
import { type BuildPlan, buildPlanSchema } from '@debian-forge/queue';
import { type ApiTarget, RETRIED, type RetryOptions, reason, send, withRetries } from './api.ts';
import { WorkerError, WorkerErrorCode } from './errors.ts';

/** A plan is a manifest with every package pinned: large, but far from this. */
const MAX_PLAN_BYTES = 64 * 1024 * 1024;

export async function fetchPlan(
  api: ApiTarget,
  composeId: string,
  jobId: string,
  opts: RetryOptions = {},
): Promise<BuildPlan> {
  const path = `/composes/${encodeURIComponent(composeId)}/plan?job=${encodeURIComponent(jobId)}`;
  const refused = (why: string) =>
    new WorkerError(
      WorkerErrorCode.PLAN_REFUSED,
      `the API serves no plan for job ${jobId} of compose ${composeId} (${why}): not built`,
    );
  return withRetries(
    `asking the API for the plan of compose ${composeId}`,
    WorkerErrorCode.PLAN_REFUSED,
    async () => {
      const answer = await send(
        api,
        'GET',
        path,
        { accept: 'application/json' },
        {
          ...(opts.signal ? { signal: opts.signal } : {}),
          maxBody: MAX_PLAN_BYTES,
        },
      );
      if (RETRIED.has(answer.status)) throw new Error(reason(answer));
      if (answer.status !== 200) throw refused(reason(answer));
      if (answer.cut) throw refused(`an answer over ${MAX_PLAN_BYTES} bytes`);
      let body: unknown;
      try {
        body = JSON.parse(answer.body);
      } catch {
        throw refused('an answer that is not JSON');
      }
      const plan = buildPlanSchema.safeParse(body);
      if (!plan.success) throw refused(`an answer that is not a plan: ${plan.error.message}`);
      if (plan.data.compose_id !== composeId || plan.data.job_id !== jobId) {
        throw refused(`a plan for job ${plan.data.job_id} of compose ${plan.data.compose_id}`);
      }
      return plan.data;
    },
    opts,
  );
}
