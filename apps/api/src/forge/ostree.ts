/**
 * The OSTree refs the service has built commits for, each with its commits newest first: what an
 * atomic update's next version takes as its parent (the newest), and the chain of parents a person
 * reads to see which version came from which. Read from the composes that ended COMPLETED with a
 * commit (the worker reports it with the job's result), with what the service's OSTree repository
 * (services/ostree-repo.ts, served at `repo`) holds of them: the commit each ref points at there,
 * and which commits are published (or why not).
 */
import type { Compose } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import type { OstreeRepo } from '../services/ostree-repo.ts';
import { OSTREE_REPO_PATH } from './ostree-repo.ts';
import { FORGE_PREFIX } from './prefix.ts';
import { ostreeOf } from './views.ts';

const commitView = z.object({
  commit: z.string().describe('the commit checksum'),
  parent: z.string().nullable().describe('the parent the compose named; null for the first of a chain'),
  compose: z.string().describe('the compose that made it (its artifact holds the commit)'),
  image_type: z.string(),
  blueprint: z.object({ name: z.string(), version: z.string() }).nullable(),
  url: z.string().nullable().describe('the URL the compose was given for the ref'),
  finished_at: z.string(),
  published: z.boolean().describe('whether the service’s repository holds the commit'),
  publish_error: z
    .string()
    .nullable()
    .describe('why the commit could not be published (its compose stays COMPLETED); null when it was'),
});

export const refsView = z.object({
  repo: z
    .string()
    .describe(
      'the path of the service’s OSTree repository (on its TCP listener: the URL to point machines at)',
    ),
  refs: z.array(
    z.object({
      ref: z.string(),
      head: z
        .string()
        .nullable()
        .describe(
          'the commit the ref points at in the service’s repository (what a machine pulls); null: none',
        ),
      published: z.boolean().describe('whether the repository’s ref points at the newest commit'),
      commits: z.array(commitView).describe('newest first: the first is the parent of the next version'),
    }),
  ),
});
type RefsView = z.infer<typeof refsView>;
type CommitView = z.infer<typeof commitView>;

const publication = (state: { published: boolean; error: string | null }) => ({
  published: state.published,
  publish_error: state.error,
});

/**
 * The refs of `composes` with their commits, newest first, and what `repo` holds of them; composes
 * without a commit are left out.
 */
export function refsOf(
  composes: readonly Compose[],
  repo: Pick<OstreeRepo, 'commitState' | 'head'>,
): RefsView {
  const byRef = new Map<string, CommitView[]>();
  for (const c of composes) {
    const ostree = ostreeOf(c);
    if (c.state !== 'COMPLETED' || !ostree?.commit) continue;
    const commits = byRef.get(ostree.ref) ?? [];
    commits.push({
      commit: ostree.commit,
      parent: ostree.parent,
      compose: c.uuid,
      image_type: c.imageType,
      blueprint: c.blueprintName ? { name: c.blueprintName, version: c.blueprintVersion } : null,
      url: ostree.url,
      finished_at: c.finishedAt ?? c.createdAt,
      ...publication(repo.commitState(ostree.commit)),
    });
    byRef.set(ostree.ref, commits);
  }
  const newestFirst = (a: CommitView, b: CommitView) => b.finished_at.localeCompare(a.finished_at);
  const refs = [...byRef].map(([ref, commits]) => {
    const head = repo.head(ref);
    commits.sort(newestFirst);
    return { ref, head, published: head !== null && head === commits[0]?.commit, commits };
  });
  return {
    repo: `${FORGE_PREFIX}${OSTREE_REPO_PATH}`,
    refs: refs.sort((a, b) => newestFirst(a.commits[0] as CommitView, b.commits[0] as CommitView)),
  };
}

export async function ostreeRoutes(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { store, ostree } = deps;
  app.get(
    '/ostree/refs',
    {
      schema: {
        tags: ['forge'],
        summary: 'The OSTree refs built, each with its commits (newest first) and their parents',
        description:
          'Every COMPLETED compose that made a commit, grouped by ref. The newest commit of a ref is the parent of its next version (a debian-atomic-commit compose with ostree.parent). Each debian-atomic-commit compose’s commit is published in the service’s OSTree repository (at `repo`, served read-only: `ostree remote add --no-gpg-verify forge http://forge:<token>@host:port/api/forge/v1/ostree/repo`), each ref pointing at its newest commit; deleting a compose withdraws its commit. A commit that could not be published says why (`publish_error`); its compose stays COMPLETED.',
        response: { 200: refsView },
      },
    },
    async () => {
      const filter = { states: ['COMPLETED'] as const };
      const { total } = store.composes.list({ ...filter, limit: 0 });
      return refsOf(store.composes.list({ ...filter, limit: total }).items, ostree);
    },
  );
}
