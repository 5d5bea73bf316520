/**
 * The web UI's files: `index.html` at `/` and the bundle under `/ui/`. They are public, as the API's
 * description is (the page asks for the token itself); every API call the page makes still needs it.
 * The bundle's files are named by their content hash, so they are cached for a year; `/` is
 * revalidated every time, so a new build is picked up on the next load.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const WEB_PREFIX = '/ui/';

// The page runs only its own script and style sheet and speaks only to its own origin.
const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** Whether a request path is the web UI's (served without a token). */
export function isWebPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/' || path === '/index.html' || path.startsWith(WEB_PREFIX);
}

export async function webPlugin(app: FastifyInstance, opts: { root: string }): Promise<void> {
  const index = join(opts.root, 'index.html');
  await app.register(fastifyStatic, {
    root: join(opts.root, 'ui'),
    prefix: WEB_PREFIX,
    index: false,
    list: false,
    immutable: true,
    maxAge: '365d',
    preCompressed: true,
    setHeaders: (res) => res.setHeader('x-content-type-options', 'nosniff'),
  });
  const page = async (_request: unknown, reply: FastifyReply) => {
    const html = await readFile(index).catch(() => null);
    if (html === null) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web UI is not built here: run `npm run setup` (it bundles apps/web).\n');
    }
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
  };
  app.get('/', { schema: { hide: true } }, page);
  app.get('/index.html', { schema: { hide: true } }, page);
}
