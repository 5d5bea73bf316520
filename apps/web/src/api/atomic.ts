/**
 * The atomic updates calls: the OSTree refs built with their commits (Forge `ostree/refs`), and a
 * new version of a ref (a Weldr `debian-atomic-commit` compose whose parent is the ref's newest
 * commit).
 */
import { type Client, FORGE } from './client.ts';
import { startCompose } from './composes.ts';

/** A commit a compose made, as `ostree/refs` lists it. */
export interface OstreeCommit {
  commit: string;
  parent: string | null;
  compose: string;
  image_type: string;
  blueprint: { name: string; version: string } | null;
  url: string | null;
  finished_at: string;
}

/** A ref and its commits, newest first. */
export interface OstreeRef {
  ref: string;
  commits: OstreeCommit[];
}

/** The image type that makes a commit of a ref and nothing else: the new versions. */
export const COMMIT_TYPE = 'debian-atomic-commit';

export const ostreeRefs = async (api: Client) =>
  (await api.get<{ refs: OstreeRef[] }>(`${FORGE}/ostree/refs`)).refs;

/**
 * Starts the next version of `ref` from `blueprint`: its parent is the ref's newest commit, and
 * it keeps the URL that commit was built with. Resolves with the new compose's id.
 */
export async function startNewVersion(api: Client, ref: OstreeRef, blueprint: string): Promise<string> {
  const last = ref.commits[0];
  const answer = await startCompose(api, {
    blueprint_name: blueprint,
    compose_type: COMMIT_TYPE,
    ostree: {
      ref: ref.ref,
      ...(last ? { parent: last.commit } : {}),
      ...(last?.url ? { url: last.url } : {}),
    },
  });
  return answer.build_id;
}

/** The commit's short form, as `git` and `ostree log` readers know it. */
export const shortId = (commit: string) => commit.slice(0, 12);
