/**
 * Bearer tokens on TCP. Requests that come in over the unix socket are not asked for one: the
 * socket's mode and group decide who may connect, as with osbuild-composer's /run/weldr/api.socket.
 *
 * Which listener accepted a connection is recorded on the connection when it is accepted
 * (`trustConnection`, called by server.ts for the unix socket's listener only); nothing about the
 * peer decides it. A TCP socket reset by its peer has no remote address either, as a unix socket
 * has, so the address cannot tell them apart. A request whose connection carries no mark (TCP,
 * `inject`, a listener added later) needs the token.
 *
 * The OSTree repository's paths (forge/ostree-repo.ts) take the token as HTTP Basic too, any user
 * name with the token as password: an OSTree remote cannot be given a header, but libcurl sends
 * the credentials of its URL (`http://forge:<token>@host:port/…`) that way.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.ts';
import { OSTREE_REPO_PATH } from '../forge/ostree-repo.ts';
import { FORGE_PREFIX } from '../forge/prefix.ts';
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

/** The repository's route as the router matched it (not the URL's text, which `..` could bend). */
const REPO_ROUTE = `${FORGE_PREFIX}${OSTREE_REPO_PATH}/*`;

/** The token of a request: a bearer token, or on the repository's paths a Basic password. */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer (\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!basic?.[1] || request.routeOptions.url !== REPO_ROUTE) return undefined;
  const pair = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  return colon < 0 ? undefined : pair.slice(colon + 1);
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { tokens: readonly string[] | null }) => {
  const { tokens } = opts;
  if (tokens === null) return;
  app.addHook('onRequest', async (request) => {
    // The API's description (Swagger UI and its document under /docs) and the web UI's files are
    // public, so a browser can open them; every route they call still asks for the token.
    if (viaUnixListener(request) || request.url === '/docs' || request.url.startsWith('/docs/')) return;
    if (isWebPath(request.url)) return;
    const token = tokenOf(request);
    if (!token || !tokenMatches(token, tokens)) {
      throw new ApiError(
        401,
        'Unauthorized',
        'a valid bearer token is needed (Authorization: Bearer <token>)',
      );
    }
  });
});
