/**
 * The atomic updates calls: the OSTree refs built with their commits and what the service's
 * repository holds of them (Forge `ostree/refs`), and a new version of a ref (a Weldr `debian-atomic-commit` compose whose parent is the ref's newest
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
  /** Whether the service's repository holds it, and why not when its publication failed. */
  published: boolean;
  publish_error: string | null;
}

/** A ref and its commits, newest first. */
export interface OstreeRef {
  ref: string;
  /** The commit the ref points at in the service's repository (what machines pull), or null. */
  head: string | null;
  /** Whether that is the newest commit. */
  published: boolean;
  commits: OstreeCommit[];
}

/** The refs, and the path of the repository they are published in. */
export interface OstreeRefs {
  repo: string;
  refs: OstreeRef[];
}

/** The image type that makes a commit of a ref and nothing else: the new versions. */
export const COMMIT_TYPE = 'debian-atomic-commit';

export const ostreeRefs = (api: Client) => api.get<OstreeRefs>(`${FORGE}/ostree/refs`);

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
