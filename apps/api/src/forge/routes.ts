/**
 * The Forge API's own routes (beside the artifact upload): submit a raw OSBuild manifest, look at a
 * compose, change its priority, cancel it, list the workers and their load, the queue's counts,
 * the service's health, and the live event stream (events.ts). Composes change only through the
 * compose service. Routes that need Redis answer 503 FORGE_ERR_REDIS_UNAVAILABLE while it is away.
 */
import { MAX_PRIORITY, MIN_PRIORITY } from '@debian-forge/queue';
import { COMPOSE_STATES } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { mustGetCompose } from '../services/compose-rows.ts';
import type { ComposeServiceForLifecycle } from '../services/composes.ts';
import { eventRoutes } from './event-stream.ts';
import { ProgressTracker } from './progress.ts';
import { composeView, viewOf } from './views.ts';

const uuidParams = z.object({ uuid: z.string().describe('compose id') });

const manifestBody = z.object({
  manifest: z.record(z.string(), z.unknown()).describe('an OSBuild manifest, format version 2'),
  exports: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      "pipelines to export, each one path component (no '/', NUL or control character, not '.' or '..', at most 255 bytes); the artifact is in the first",
    ),
  filename: z
    .string()
    .min(1)
    .describe(
      "the file in the first export that is the artifact: one name of letters, digits, '.', '_' and '-', starting with a letter or digit, at most 255 bytes",
    ),
  image_type: z.string().min(1).optional().describe('a label for the compose (default "manifest")'),
  priority: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY).optional(),
});

const listQuery = z.object({
  state: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const states = v.split(',').filter((s) => s !== '');
      const unknown = states.filter((s) => !(COMPOSE_STATES as readonly string[]).includes(s));
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown state ${unknown.join(', ')} (one of ${COMPOSE_STATES.join(', ')})`,
        });
        return z.NEVER;
      }
      return states as (typeof COMPOSE_STATES)[number][];
    })
    .describe('only composes in these states (comma list)'),
});

const priorityBody = z.object({ priority: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY) });

const resources = z.object({ cpus: z.number(), memory_mib: z.number(), disk_gib: z.number() });
const workerView = z.object({
  name: z.string(),
  resources,
  free: resources,
  active_jobs: z.array(z.object({ job_id: z.string(), compose: z.string().nullable() })),
  seen_at: z.string(),
});

const queueView = z.object({
  queued: z.number().int(),
  active: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  workers: z.number().int(),
});

const healthView = z.object({
  status: z.enum(['ok', 'unavailable']).describe('unavailable while a part the service needs is away'),
  redis: z.object({
    reachable: z.boolean(),
    since: z.string().describe('when Redis became reachable or unreachable'),
    error: z.string().optional().describe('why it is unreachable'),
  }),
});

const snake = (r: { cpus: number; memoryMiB: number; diskGiB: number }) => ({
  cpus: r.cpus,
  memory_mib: r.memoryMiB,
  disk_gib: r.diskGiB,
});

/** The app's compose service, or a 503 when it was built without one. */
export function forgeComposes(deps: AppDeps): ComposeServiceForLifecycle {
  if (!deps.composes) throw ApiError.of(ApiErrorCode.Unavailable, 'the compose service is not running');
  return deps.composes;
}

export async function forgeRoutes(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { store, queue } = deps;
  const progress = new ProgressTracker(deps.events);
  app.addHook('onClose', async () => progress.close());
  const composes = () => forgeComposes(deps);
  const view = (id: string) => {
    const compose = mustGetCompose(store, id);
    return viewOf(compose, store, progress.get(compose.uuid));
  };

  app.post(
    '/manifests',
    {
      schema: {
        tags: ['forge'],
        summary: 'Compose a raw OSBuild manifest',
        description:
          'Queues the manifest as a compose. A manifest that does not validate gets 400 with the validation errors in `details`.',
        body: manifestBody,
        response: { 201: composeView },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const compose = await composes().submitManifest({
        manifest: body.manifest,
        exports: body.exports,
        filename: body.filename,
        ...(body.image_type === undefined ? {} : { imageType: body.image_type }),
        ...(body.priority === undefined ? {} : { priority: body.priority }),
      });
      return reply.code(201).send(view(compose.uuid));
    },
  );

  app.get(
    '/composes',
    {
      schema: {
        tags: ['forge'],
        summary: 'Every compose (newest first), optionally only those in some states',
        description:
          'One answer for a whole list (a UI shows the priorities of the waiting composes from it without asking per compose).',
        querystring: listQuery,
        response: { 200: z.object({ composes: z.array(composeView) }) },
      },
    },
    async (request) => {
      const states = request.query.state;
      const filter = states === undefined ? {} : { states };
      const { total } = store.composes.list({ ...filter, limit: 0 });
      const { items } = store.composes.list({ ...filter, limit: total });
      return { composes: items.map((c) => viewOf(c, store, progress.get(c.uuid))) };
    },
  );

  app.get(
    '/composes/:uuid',
    {
      schema: {
        tags: ['forge'],
        summary: 'A compose: state and times, progress, artifacts',
        params: uuidParams,
        response: { 200: composeView },
      },
    },
    async (request) => view(request.params.uuid),
  );

  for (const method of ['PUT', 'POST'] as const) {
    app.route({
      method,
      url: '/composes/:uuid/priority',
      schema: {
        tags: ['forge'],
        summary: 'Set the priority of a waiting compose (higher runs first)',
        params: uuidParams,
        body: priorityBody,
        response: { 200: composeView },
      },
      handler: async (request) => {
        await composes().setPriority(request.params.uuid, request.body.priority);
        return view(request.params.uuid);
      },
    });
  }

  app.post(
    '/composes/:uuid/cancel',
    {
      schema: {
        tags: ['forge'],
        summary: 'Cancel a compose; a building one has its build killed and its mounts released',
        params: uuidParams,
        response: { 200: composeView },
      },
    },
    async (request) => {
      await composes().cancel(request.params.uuid);
      return view(request.params.uuid);
    },
  );

  app.get(
    '/workers',
    {
      schema: {
        tags: ['forge'],
        summary: 'The live workers: what they have, what is free, what they run',
        response: { 200: z.object({ workers: z.array(workerView) }) },
      },
    },
    async () => {
      const workers = await queue.listWorkers();
      return {
        workers: workers.map((w) => ({
          name: w.name,
          resources: snake(w.resources),
          free: snake(w.free),
          active_jobs: w.activeJobs.map((jobId) => ({
            job_id: jobId,
            compose: store.composes.byJob(jobId)?.uuid ?? null,
          })),
          seen_at: new Date(w.seenAt).toISOString(),
        })),
      };
    },
  );

  app.get(
    '/queue',
    {
      schema: {
        tags: ['forge'],
        summary: 'Queue statistics: jobs queued, active, completed and failed, and live workers',
        description: 'Read from Redis: 503 FORGE_ERR_REDIS_UNAVAILABLE while it is unreachable.',
        response: { 200: queueView },
      },
    },
    async () => {
      const [counts, workers] = await Promise.all([queue.counts(), queue.listWorkers()]);
      return { ...counts, workers: workers.length };
    },
  );

  app.get(
    '/health',
    {
      schema: {
        tags: ['forge'],
        summary: 'Whether the service can take composes: Redis reachable',
        description:
          '200 while Redis answers; 503 with the same body while it is unreachable (composes cannot be queued or cancelled meanwhile; what is stored can be read).',
        response: { 200: healthView, 503: healthView },
      },
    },
    async (_request, reply) => {
      const redis = queue.redisState();
      return reply.code(redis.reachable ? 200 : 503).send({
        status: redis.reachable ? 'ok' : 'unavailable',
        redis: {
          reachable: redis.reachable,
          since: new Date(redis.since).toISOString(),
          ...(redis.error === undefined ? {} : { error: redis.error }),
        },
      });
    },
  );

  await app.register(eventRoutes, deps);
}
