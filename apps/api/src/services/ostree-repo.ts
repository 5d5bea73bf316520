/**
 * The OSTree repository the service keeps, `<stateDir>/ostree/repo` (archive mode), which machines
 * pull their updates from (forge/ostree-repo.ts serves it). It follows the store:
 *
 * - a compose that ends COMPLETED with a commit is published: its artifact (commit.tar, the build's
 *   archive repository under `repo/`) is unpacked into a directory under `<stateDir>/ostree`, the
 *   commit is copied in with `ostree pull-local` (every object's checksum checked: the artifact
 *   came from a worker), its ref is pointed at the newest finished commit of the ref the
 *   repository holds, and the summary is updated;
 * - a deleted compose's commit is withdrawn: its ref moves back to the newest commit left, or goes
 *   with the last one, and the commit is pruned with the objects no other commit holds
 *   (`--delete-commit`, not `--refs-only`: the older commits of a ref stay pullable by checksum
 *   even when the head's chain of parents does not lead to them);
 * - `reconcile` (start-up) pulls the commits the repository lacks and drops those no compose has
 *   any more, so a restart, or a state directory from before the repository, catches up.
 *
 * One change at a time (a promise chain), so no two `ostree` commands write the repository at
 * once. A failed publication leaves the compose as it is (COMPLETED): it is reported to `onError`
 * and told by `commitState`, which the ref view shows.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '@debian-forge/host';
import type { Compose, Store } from '@debian-forge/store';
import { ostreeOf } from '../forge/views.ts';
import { OstreeTool } from './ostree-tool.ts';

const INCOMING = 'incoming-';

export interface OstreeRepo {
  /** The repository's directory. */
  readonly dir: string;
  /** Publishes the commit of a COMPLETED compose (see the top); resolves when done, never rejects. */
  publish(compose: Compose): Promise<void>;
  /** Withdraws the commit of a compose removed from the store; resolves when done, never rejects. */
  withdraw(compose: Compose): Promise<void>;
  /** Brings the repository in line with the store (start-up); never rejects. */
  reconcile(): Promise<void>;
  /** Whether the repository holds `commit`, and why its last publication failed (null: it did not). */
  commitState(commit: string): { published: boolean; error: string | null };
  /** The commit the repository's `ref` points at (what a machine pulls), or null. */
  head(ref: string): string | null;
  /** Resolves when every change asked for so far is done. */
  idle(): Promise<void>;
}

export interface OstreeRepoDeps {
  stateDir: string;
  store: Store;
  /** Where failures go (the service's log). */
  onError: (message: string) => void;
}

/** A commit the store has: a COMPLETED compose's, with its ref. */
interface StoredCommit {
  compose: Compose;
  ref: string;
  commit: string;
}

/** The commits of the store's COMPLETED composes, newest finished first. */
function storedCommits(store: Store): StoredCommit[] {
  const filter = { states: ['COMPLETED'] as const };
  const { total } = store.composes.list({ ...filter, limit: 0 });
  const found: StoredCommit[] = [];
  for (const compose of store.composes.list({ ...filter, limit: total }).items) {
    const ostree = ostreeOf(compose);
    if (ostree?.commit) found.push({ compose, ref: ostree.ref, commit: ostree.commit });
  }
  const finished = (c: StoredCommit) => c.compose.finishedAt ?? c.compose.createdAt;
  return found.sort((a, b) => finished(b).localeCompare(finished(a)));
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createOstreeRepo(deps: OstreeRepoDeps): OstreeRepo {
  const base = join(deps.stateDir, 'ostree');
  const tool = new OstreeTool(join(base, 'repo'));
  /** Why the last publication of a commit failed. */
  const failures = new Map<string, string>();
  let chain: Promise<void> = Promise.resolve();

  const serially = (what: string, fn: () => Promise<void>): Promise<void> => {
    chain = chain.then(async () => {
      try {
        mkdirSync(base, { recursive: true, mode: 0o700 });
        await tool.init();
        await fn();
      } catch (err) {
        deps.onError(`OSTree repository: ${what}: ${messageOf(err)}`);
      }
    });
    return chain;
  };

  /**
   * Copies the commit in from its compose's artifact unless the repository has it. A compose whose
   * artifact is no archive (a disk with the commit deployed) cannot be published: the reason.
   */
  const bring = async ({ compose, commit }: StoredCommit): Promise<string | undefined> => {
    if (tool.hasCommit(commit)) return undefined;
    const archive = deps.store.artifacts.list(compose.uuid).find((a) => a.filename.endsWith('.tar'));
    if (!archive) return `the artifact of compose ${compose.uuid} is not a commit archive (a tar file)`;
    const dir = await mkdtemp(join(base, INCOMING));
    try {
      await run([
        'tar',
        '--extract',
        `--file=${archive.path}`,
        `--directory=${dir}`,
        '--no-same-owner',
        '--no-same-permissions',
      ]);
      if (!existsSync(join(dir, 'repo', 'config'))) {
        throw new Error(`${archive.filename} of compose ${compose.uuid} holds no OSTree repository at repo/`);
      }
      await tool.pullLocal(join(dir, 'repo'), commit);
      return undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  /** Points `ref` at the newest of its stored commits the repository holds, or deletes it. */
  const syncRef = async (ref: string, stored: readonly StoredCommit[]): Promise<void> => {
    const head = stored.find((c) => c.ref === ref && tool.hasCommit(c.commit))?.commit ?? null;
    if (tool.head(ref) !== head) await tool.setRef(ref, head);
  };

  /** Publishes one stored commit, keeping the reason when it fails. */
  const publishOne = async (c: StoredCommit, stored: readonly StoredCommit[]): Promise<void> => {
    try {
      const unpublishable = await bring(c);
      if (unpublishable) {
        failures.set(c.commit, unpublishable);
        return;
      }
      failures.delete(c.commit);
    } catch (err) {
      failures.set(c.commit, messageOf(err));
      throw err;
    }
    await syncRef(c.ref, stored);
  };

  return {
    dir: tool.repo,
    publish: (compose) =>
      serially(`publishing the commit of compose ${compose.uuid}`, async () => {
        const stored = storedCommits(deps.store);
        const c = stored.find((s) => s.compose.uuid === compose.uuid);
        if (!c) return; // deleted meanwhile
        await publishOne(c, stored);
        await tool.updateSummary();
      }),
    withdraw: (compose) =>
      serially(`withdrawing the commit of compose ${compose.uuid}`, async () => {
        const ostree = ostreeOf(compose);
        if (!ostree?.commit) return;
        const { commit } = ostree;
        const stored = storedCommits(deps.store);
        await syncRef(ostree.ref, stored);
        if (!stored.some((c) => c.commit === commit) && tool.hasCommit(commit)) {
          await tool.deleteCommit(commit);
        }
        failures.delete(commit);
        await tool.updateSummary();
      }),
    reconcile: () =>
      serially('bringing it in line with the store', async () => {
        for (const name of readdirSync(base)) {
          if (name.startsWith(INCOMING)) rmSync(join(base, name), { recursive: true, force: true });
        }
        const stored = storedCommits(deps.store);
        const errors: string[] = [];
        for (const c of stored) {
          await publishOne(c, stored).catch((err: unknown) => {
            errors.push(`compose ${c.compose.uuid}: ${messageOf(err)}`);
          });
        }
        for (const ref of tool.refs()) await syncRef(ref, stored);
        const kept = new Set(stored.map((c) => c.commit));
        for (const commit of tool.commits()) {
          if (!kept.has(commit)) await tool.deleteCommit(commit);
        }
        await tool.updateSummary();
        if (errors.length > 0) throw new Error(`not published: ${errors.join('; ')}`);
      }),
    commitState: (commit) => ({ published: tool.hasCommit(commit), error: failures.get(commit) ?? null }),
    head: (ref) => tool.head(ref),
    idle: () => chain,
  };
}
