import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';

const statusSchema = z.object({
  api: z.string(),
  db_supported: z.boolean(),
  db_version: z.string(),
  schema_version: z.string(),
  backend: z.string(),
  build: z.string(),
  msgs: z.array(z.string()),
});

/** GET /api/status: what Weldr clients check first. `backend` must read "osbuild-composer". */
export function statusRoute(app: FastifyInstance, deps: AppDeps): void {
  const body = {
    api: '1',
    db_supported: true,
    db_version: '0',
    schema_version: '0',
    backend: 'osbuild-composer',
    build: deps.config.version,
    msgs: [] as string[],
  };
  app.get('/api/status', { schema: { tags: ['weldr'], response: { 200: statusSchema } } }, async () => body);
}
