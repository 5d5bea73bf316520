/**
 * The state directory of `forge serve`, claimed before anything touches it (its private Redis, its
 * token file, its database), as PostgreSQL claims a data directory: one service at a time, by an
 * exclusive flock(2) on `<state>/serve.lock`, held for the service's whole life by this process's
 * own descriptor, so the kernel releases it when the process dies, however it dies. (The engine's
 * store locks are held by a `flock … cat` child instead, which a Ctrl-C or a service manager's
 * SIGTERM to the whole process group ends while the service is still stopping; apt's lock, reused
 * here, keeps the descriptor in this process.)
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AptError, AptErrorCode, type HeldLock, lockFile } from '@debian-forge/apt';
import { ServiceError } from './errors.ts';

export interface StateDirClaim {
  /** The lock file held while the service runs. */
  lock: string;
  release(): void;
}

const LOCK_FILE = 'serve.lock';

/**
 * Claims `stateDir` for one `forge serve`: makes and locks the directory. Throws a ServiceError when
 * another service holds it.
 */
export async function claimStateDir(stateDir: string): Promise<StateDirClaim> {
  const dir = resolve(stateDir);
  mkdirSync(dir, { recursive: true });
  if (!statSync(dir).isDirectory()) throw new ServiceError(`the state directory ${dir} is not a directory`);
  const lock = join(dir, LOCK_FILE);
  let held: HeldLock;
  try {
    held = await lockFile(lock, 'exclusive', 0);
  } catch (err) {
    if (err instanceof AptError && err.code === AptErrorCode.Lock) {
      throw new ServiceError(`another forge serve is running on ${dir} (it holds ${lock})`);
    }
    throw err;
  }
  return { lock, release: () => held.release() };
}
