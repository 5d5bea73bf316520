/**
 * The OSTree refs the service has built commits for, each with its commits newest first: what an
 * atomic update's next version takes as its parent (the newest), and the chain of parents a person
 * reads to see which version came from which. Read from the composes that ended COMPLETED with a
 * commit (the worker reports it with the job's result); the service serves no OSTree repository
 * itself, each commit is in its compose's artifact.
 */
import type { Compose } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ostreeOf } from './views.ts';

const commitView = z.object({
  commit: z.string().describe('the commit checksum'),
  parent: z.string().nullable().describe('the parent the compose named; null for the first of a chain'),
  compose: z.string().describe('the compose that made it (its artifact holds the commit)'),
  image_type: z.string(),
  blueprint: z.object({ name: z.string(), version: z.string() }).nullable(),
  url: z.string().nullable().describe('the URL the compose was given for the ref'),
  finished_at: z.string(),
});

export const refsView = z.object({
  refs: z.array(
    z.object({
      ref: z.string(),
      commits: z.array(commitView).describe('newest first: the first is the parent of the next version'),
    }),
  ),
});
type RefsView = z.infer<typeof refsView>;
type CommitView = z.infer<typeof commitView>;

/** The refs of `composes` with their commits, newest first; composes without a commit are left out. */
export function refsOf(composes: readonly Compose[]): RefsView {
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
    });
    byRef.set(ostree.ref, commits);
  }
  const newestFirst = (a: CommitView, b: CommitView) => b.finished_at.localeCompare(a.finished_at);
  const refs = [...byRef].map(([ref, commits]) => ({ ref, commits: commits.sort(newestFirst) }));
  return {
    refs: refs.sort((a, b) => newestFirst(a.commits[0] as CommitView, b.commits[0] as CommitView)),
  };
}

export async function ostreeRoutes(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { store } = deps;
  app.get(
    '/ostree/refs',
    {
      schema: {
        tags: ['forge'],
        summary: 'The OSTree refs built, each with its commits (newest first) and their parents',
        description:
          'Every COMPLETED compose that made a commit, grouped by ref. The newest commit of a ref is the parent of its next version (a debian-atomic-commit compose with ostree.parent). The service serves no OSTree repository: a commit is in its compose’s artifact.',
        response: { 200: refsView },
      },
    },
    async () => {
      const filter = { states: ['COMPLETED'] as const };
      const { total } = store.composes.list({ ...filter, limit: 0 });
      return refsOf(store.composes.list({ ...filter, limit: total }).items);
    },
  );
}
