/**
 * The service's OSTree repository (services/ostree-repo.ts) over HTTP, read-only, at
 * `/api/forge/v1/ostree/repo/`: what `ostree pull` asks for with plain GETs (`config`, `summary`,
 * `refs/heads/…`, `objects/xx/…`, static deltas), each answered with the file or a 404, never a
 * redirect or a listing. Over TCP a machine gives its token as the password of the remote's URL
 * (`http://forge:<token>@host:port/api/forge/v1/ostree/repo`), which libcurl sends as HTTP Basic
 * (plugins/auth.ts accepts it on these paths).
 *
 * Only paths of the shapes above are served, of names made of the characters OSTree writes, and
 * only a regular file whose real path is that path inside the repository: a `..` (encoded or not)
 * or a symbolic link anywhere in the repository leads nowhere.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiError, OstreeRepoErrorCode } from '../errors.ts';

/** Where the repository is served, under the Forge API's prefix. */
export const OSTREE_REPO_PATH = '/ostree/repo';

const FILES = new Set(['config', 'summary', 'summary.sig']);
const TREES = ['refs/heads/', 'objects/', 'deltas/', 'delta-indexes/'];
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Whether `path` (relative to the repository, decoded) is one an OSTree client fetches. */
export function isRepoFile(path: string): boolean {
  if (FILES.has(path)) return true;
  if (!TREES.some((tree) => path.startsWith(tree))) return false;
  return path.split('/').every((segment) => SEGMENT.test(segment));
}

const notFound = (path: string) =>
  ApiError.of(OstreeRepoErrorCode.NotFound, `the OSTree repository has no file ${JSON.stringify(path)}`);

/** The file to send for `path`: inside the repository with no symbolic link on the way. */
async function fileOf(repo: string, path: string): Promise<{ file: string; size: number }> {
  if (!isRepoFile(path)) throw notFound(path);
  try {
    const root = await realpath(repo);
    const file = await realpath(join(root, path));
    const info = await stat(file);
    if (file !== join(root, path) || !info.isFile()) throw notFound(path);
    return { file, size: info.size };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw notFound(path);
  }
}

export async function ostreeRepoRoutes(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  app.get(
    `${OSTREE_REPO_PATH}/*`,
    {
      schema: {
        tags: ['forge'],
        summary: 'A file of the service’s OSTree repository, for `ostree pull`',
        description:
          'The archive repository every COMPLETED debian-atomic-commit compose’s commit is published in, each ref at its newest commit: point machines at `<service>/api/forge/v1/ostree/repo` (`ostree remote add --no-gpg-verify forge http://forge:<token>@host:port/api/forge/v1/ostree/repo`). Over TCP the token may come as HTTP Basic (any user name, the token as password) on these paths, as libcurl sends the credentials of a URL. Objects are cached for good (their name is their checksum); config, summary and refs are revalidated.',
        params: z.object({ '*': z.string() }),
      },
    },
    async (request, reply) => {
      const path = request.params['*'];
      const { file, size } = await fileOf(deps.ostree.dir, path);
      const immutable = path.startsWith('objects/') || path.startsWith('deltas/');
      return reply
        .headers({
          'content-length': size,
          'cache-control': immutable ? 'private, max-age=31536000, immutable' : 'no-cache',
          'x-content-type-options': 'nosniff',
        })
        .type('application/octet-stream')
        .send(createReadStream(file));
    },
  );
}
