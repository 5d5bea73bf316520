/**
 * The Forge API at /api/forge/v1: what Weldr and the Cloud API lack (raw manifests, priorities,
 * cancel, workers, queue statistics, the live event stream, the OSTree refs built and the repository
 * they are published in; for workers, build plans and artifact
 * uploads). Errors are `{code, message, details?}` with a stable `FORGE_ERR_*` or HTTP code.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { ApiErrorCode, errorHandler } from '../errors.ts';
import { artifactRoutes } from './artifacts.ts';
import { ostreeRoutes } from './ostree.ts';
import { ostreeRepoRoutes } from './ostree-repo.ts';
import { planRoutes } from './plan.ts';
import { forgeRoutes } from './routes.ts';

export function forgeError(code: string, message: string, details?: unknown) {
  return { code, message, ...(details === undefined ? {} : { details }) };
}

export async function forgePlugin(app: FastifyInstance, opts: AppDeps & { prefix?: string }): Promise<void> {
  const { prefix: _prefix, ...deps } = opts; // registered again below, the prefix would apply twice
  app.setErrorHandler(
    errorHandler({
      family: 'forge',
      api: (err) => ({ status: err.status, body: forgeError(err.code, err.message, err.details) }),
      weldr: (err) => ({ status: err.status, body: forgeError(err.id, err.message) }),
      http: (status, err) => ({
        status,
        body: forgeError(err.code ?? ApiErrorCode.Http, err.message, err.validation),
      }),
    }),
  );
  await app.register(artifactRoutes, deps);
  await app.register(forgeRoutes, deps);
  await app.register(planRoutes, deps);
  await app.register(ostreeRoutes, deps);
  await app.register(ostreeRepoRoutes, deps);
}
