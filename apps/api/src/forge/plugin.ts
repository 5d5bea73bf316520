/**
 * The Forge API at /api/forge/v1: what Weldr and the Cloud API lack (raw manifests, priorities,
 * cancel, workers, queue statistics, the live event stream; for workers, build plans and artifact
 * uploads). Errors are `{code, message, details?}` with a stable `FORGE_ERR_*` or HTTP code.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { ApiError, apiErrorOf, WeldrError } from '../errors.ts';
import { artifactRoutes } from './artifacts.ts';
import { planRoutes } from './plan.ts';
import { forgeRoutes } from './routes.ts';

export const FORGE_PREFIX = '/api/forge/v1';

export function forgeError(code: string, message: string, details?: unknown) {
  return { code, message, ...(details === undefined ? {} : { details }) };
}

export async function forgePlugin(app: FastifyInstance, opts: AppDeps & { prefix?: string }): Promise<void> {
  const { prefix: _prefix, ...deps } = opts; // registered again below, the prefix would apply twice
  app.setErrorHandler((thrown: FastifyError | ApiError | WeldrError, request, reply) => {
    const err = apiErrorOf(thrown) ?? thrown; // lower packages' codes with a status here
    if (err instanceof ApiError)
      return reply.code(err.status).send(forgeError(err.code, err.message, err.details));
    if (err instanceof WeldrError) return reply.code(err.status).send(forgeError(err.id, err.message));
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'forge route failed');
    return reply.code(status).send(forgeError(err.code ?? 'FORGE_ERR_HTTP', err.message, err.validation));
  });
  await app.register(artifactRoutes, deps);
  await app.register(forgeRoutes, deps);
  await app.register(planRoutes, deps);
}
