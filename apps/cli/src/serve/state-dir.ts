/**
 * The state directory of `forge serve`, claimed before anything touches it (its private Redis, its
 * token file, its database), as PostgreSQL claims a data directory:
 *
 * - one service at a time: an exclusive flock(2) on `<state>/serve.lock`, held for the service's
 *   whole life by this process's own descriptor (the host layer's lock), so the kernel releases it
 *   when the process dies, however it dies, and a Ctrl-C or a service manager's SIGTERM to the
 *   whole process group cannot release it while the service is still stopping.
 * - its own: the directory is 0700, or 0750 with the socket group when a unix socket of the
 *   service (the API's, the Cloud API's) lives in it and has a group, so that group can reach it; an existing directory is tightened, and so
 *   are the entries in it (no group or other bits) and everything under `artifacts/`. What the
 *   service writes there itself is made 0600/0700 (the database, tokens, artifacts); what apt and
 *   the worker make later keeps their modes, behind the directory's.
 */
import {
  chmodSync,
  chownSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ApiError, groupId } from '@debian-forge/api';
import { lock as lockFile } from '@debian-forge/host';
import { ServiceError } from './errors.ts';

export interface StateDirClaim {
  /** The lock file held while the service runs. */
  lock: string;
  release(): void;
}

const LOCK_FILE = 'serve.lock';

/** The id of the unix socket's group; an unknown group is a ServiceError (one line, exit 1). */
export function socketGroupId(group: string): number {
  try {
    return groupId(group);
  } catch (err) {
    if (err instanceof ApiError)
      throw new ServiceError(`--socket-group ${group}: no such group in /etc/group`);
    throw err;
  }
}

/** Takes group and other permissions away from `path`, and from everything under it if `deep`. */
function tighten(path: string, deep: boolean): void {
  const st = lstatSync(path);
  // Symbolic links are not followed (their own mode means nothing); sockets keep the mode their
  // listener gave them.
  if (st.isSymbolicLink() || st.isSocket()) return;
  if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o7700);
  if (deep && st.isDirectory()) {
    for (const name of readdirSync(path)) tighten(join(path, name), true);
  }
}

/** Creates `path` empty with mode 0600 unless it exists (a file the service fills later). */
export function privateFile(path: string): string {
  closeSync(openSync(path, 'a', 0o600));
  return path;
}

/**
 * Claims `stateDir` for one `forge serve`: checks the sockets' group, makes and locks the directory,
 * tightens its modes. Throws a ServiceError when another service holds it.
 */
export async function claimStateDir(
  stateDir: string,
  sockets: readonly { path: string; group?: string }[] = [],
): Promise<StateDirClaim> {
  for (const socket of sockets) if (socket.group !== undefined) socketGroupId(socket.group);
  const dir = resolve(stateDir);
  mkdirSync(dir, { recursive: true });
  const st = statSync(dir);
  if (!st.isDirectory()) throw new ServiceError(`the state directory ${dir} is not a directory`);
  // A shared directory such as /tmp is nobody's state directory: making it 0700 would lock out
  // everyone else.
  if ((st.mode & 0o1000) !== 0) {
    throw new ServiceError(
      `the state directory ${dir} is shared (sticky bit, as /tmp): give forge serve a directory of its own`,
    );
  }
  const lock = join(dir, LOCK_FILE);
  const held = await lockFile(lock, 'exclusive', 0);
  if (!held) throw new ServiceError(`another forge serve is running on ${dir} (it holds ${lock})`);
  try {
    const inside = sockets.find((s) => s.group !== undefined && dirname(resolve(s.path)) === dir);
    if (inside?.group !== undefined) {
      chownSync(dir, -1, socketGroupId(inside.group));
      chmodSync(dir, 0o750);
    } else {
      chmodSync(dir, 0o700);
    }
    for (const name of readdirSync(dir)) tighten(join(dir, name), name === 'artifacts');
  } catch (err) {
    held.release();
    throw err;
  }
  return { lock, release: () => held.release() };
}
