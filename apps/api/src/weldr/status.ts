import type { RedisState } from '@debian-forge/queue';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';

const statusSchema = z.object({
  api: z.string(),
  db_supported: z.boolean(),
  db_version: z.string(),
  schema_version: z.string(),
  backend: z.string(),
  build: z.string(),
  msgs: z.array(z.string()),
});

/**
 * GET /api/status: what Weldr clients check first. `backend` must read "osbuild-composer". `msgs`
 * (which composer-cli's `status show` prints) says when Redis is unreachable, as composer puts its
 * own warnings there; the other keys never change.
 */
export function statusRoute(app: FastifyInstance, deps: AppDeps): void {
  const body = {
    api: '1',
    db_supported: true,
    db_version: '0',
    schema_version: '0',
    backend: 'osbuild-composer',
    build: deps.config.version,
  };
  app.get('/api/status', { schema: { tags: ['weldr'], response: { 200: statusSchema } } }, async () => ({
    ...body,
    msgs: redisMessages(deps.queue.redisState()),
  }));
}

function redisMessages(redis: RedisState): string[] {
  if (redis.reachable) return [];
  return [
    `Redis is unreachable since ${new Date(redis.since).toISOString()} (${redis.error ?? 'no answer'}): composes cannot be queued or cancelled until it is back`,
  ];
}
