/**
 * `GET /api/forge/v1/composes/{uuid}/plan?job=<job id>`: what a worker builds for a build job. A job
 * in Redis names only its compose (anyone who can write to Redis can write one, and workers build
 * as root), so the worker asks here, over the channel the API trusts (its unix socket, or TCP with
 * a bearer token), and builds nothing else. The plan comes from the API's own database, and only
 * for a compose QUEUED or BUILDING under that very job: a job the API did not queue gets 404 (no
 * such compose) or 409 (another state, another job), which the worker fails unbuilt.
 */
import { type BuildPlan, buildPlanSchema } from '@debian-forge/queue';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import { mustGetCompose } from '../services/compose-rows.ts';

export async function planRoutes(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/composes/:uuid/plan',
    {
      schema: {
        tags: ['forge'],
        summary: "A queued or building compose's build plan, for the worker running its job",
        description:
          'The stored build plan of a compose that is QUEUED or BUILDING with the job `job`: the manifest, the pipelines to export, the artifact (file name, MIME type), the checkpoints and the packages of each layer (workers ask for it when they take the job, and build only this). 404 for an unknown compose, 409 for a compose in another state or with another job.',
        params: z.object({ uuid: z.string().describe('compose id') }),
        querystring: z.object({ job: z.string().min(1).describe('the job id the worker took') }),
        response: { 200: buildPlanSchema },
      },
    },
    async (request): Promise<BuildPlan> => {
      const { uuid } = request.params;
      const { job } = request.query;
      const compose = mustGetCompose(deps.store, uuid);
      if (compose.state !== 'QUEUED' && compose.state !== 'BUILDING') {
        throw ApiError.of(
          ComposeErrorCode.WrongState,
          `compose ${uuid} is ${compose.state}: nothing to build`,
        );
      }
      if (compose.jobId !== job) {
        throw ApiError.of(
          ComposeErrorCode.WrongJob,
          `compose ${uuid} was not queued as job ${job}: nothing to build`,
        );
      }
      if (!compose.build || !compose.manifest) {
        // Queued by a version that kept the plan in the job only (store schema < 3).
        throw ApiError.of(ComposeErrorCode.WrongState, `compose ${uuid} has no stored build plan`);
      }
      return {
        compose_id: compose.uuid,
        job_id: job,
        image_type: compose.imageType,
        manifest: compose.manifest as Record<string, unknown>,
        ...compose.build,
      };
    },
  );
}
