/**
 * Bearer tokens on TCP. Requests that come in over the unix socket are not asked for one: the
 * socket's mode and group decide who may connect, as with osbuild-composer's /run/weldr/api.socket.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.ts';

/** A request over a unix socket has no remote address; one over TCP (or `inject`) has. */
export function viaUnixSocket(request: FastifyRequest): boolean {
  return request.raw.socket.remoteAddress === undefined;
}

function tokenMatches(given: string, tokens: readonly string[]): boolean {
  const a = Buffer.from(given);
  let ok = false;
  for (const token of tokens) {
    const b = Buffer.from(token);
    if (a.length === b.length && timingSafeEqual(a, b)) ok = true;
  }
  return ok;
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { tokens: readonly string[] | null }) => {
  const { tokens } = opts;
  if (tokens === null) return;
  app.addHook('onRequest', async (request) => {
    // The API's description (Swagger UI and its document under /docs) is public, so a browser can
    // open it; every route it describes still asks for the token.
    if (viaUnixSocket(request) || request.url === '/docs' || request.url.startsWith('/docs/')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/i.exec(header);
    if (!match?.[1] || !tokenMatches(match[1], tokens)) {
      throw new ApiError(
        401,
        'Unauthorized',
        'a valid bearer token is needed (Authorization: Bearer <token>)',
      );
    }
  });
});
