/**
 * The Weldr API (lorax-composer compatible) at /api/status and /api/v0|v1: its own body parsing
 * (routes read JSON or TOML bodies as text and parse them themselves, to answer with Weldr's
 * messages), its error envelope, and its 404 body.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { errorHandler } from '../errors.ts';
import { blueprintRoutes } from './blueprints.ts';
import { composeRoutes } from './compose.ts';
import { projectRoutes } from './projects.ts';
import { errorBody } from './reply.ts';
import { WeldrRouter } from './router.ts';
import { sourceRoutes } from './sources.ts';
import { statusRoute } from './status.ts';

export async function weldrPlugin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler(
    errorHandler({
      family: 'weldr',
      weldr: (err) => ({ status: err.status, body: errorBody(err.status, err.id, err.message) }),
      api: (err) => {
        // weldr-client reads only 400, 404 and 500 as errors (a 503 body would pass for a success):
        // a refusal of the server's side is 500 here, as osbuild-composer answers them.
        const status = Math.min(err.status, 500);
        return { status, body: errorBody(status, err.code, err.message) };
      },
      http: (status, err) =>
        status >= 500
          ? { status: 500, body: errorBody(500, 'InternalServerError', err.message) }
          : { status, body: errorBody(status, 'HTTPError', err.message) },
    }),
  );

  const router = new WeldrRouter(app);
  statusRoute(app, deps);
  blueprintRoutes(router, deps);
  projectRoutes(router, deps);
  sourceRoutes(router, deps);
  composeRoutes(router, deps);
  router.finish();
}

/** The body of a Weldr 404 (unknown route or API version). */
export const WELDR_NOT_FOUND = errorBody(404, 'HTTPError', 'Not Found');
