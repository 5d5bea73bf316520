/**
 * Bearer tokens on TCP. Requests that come in over the unix socket are not asked for one: the
 * socket's mode and group decide who may connect, as with osbuild-composer's /run/weldr/api.socket.
 *
 * Which listener accepted a connection is recorded on the connection when it is accepted
 * (`trustConnection`, called by server.ts for the unix socket's listener only); nothing about the
 * peer decides it. A TCP socket reset by its peer has no remote address either, as a unix socket
 * has, so the address cannot tell them apart. A request whose connection carries no mark (TCP,
 * `inject`, a listener added later) needs the token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.ts';
import { isWebPath } from './web.ts';

const UNIX_LISTENER = Symbol('forge.unixListener');

type Marked = { [UNIX_LISTENER]?: true };

/** Marks a connection that the unix socket's listener accepted: its requests need no token. */
export function trustConnection(socket: Socket): void {
  (socket as Socket & Marked)[UNIX_LISTENER] = true;
}

/** Whether the request came over a connection that the unix socket's listener accepted. */
function viaUnixListener(request: FastifyRequest): boolean {
  return (request.raw.socket as Socket & Marked)[UNIX_LISTENER] === true;
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
    // The API's description (Swagger UI and its document under /docs) and the web UI's files are
    // public, so a browser can open them; every route they call still asks for the token.
    if (viaUnixListener(request) || request.url === '/docs' || request.url.startsWith('/docs/')) return;
    if (isWebPath(request.url)) return;
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
