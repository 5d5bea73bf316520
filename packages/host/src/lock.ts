/**
 * Advisory file locks (flock(2) through flock(1), since Node.js has no flock). We open the lock file
 * ourselves and hand the descriptor to `flock N` as its descriptor 3: the lock belongs to the open
 * file description, which we keep, so it stays held after `flock` exits and is released when we
 * close the descriptor, or when this process dies, whatever the cause. Node opens files with
 * O_CLOEXEC, so programs started later do not inherit it. Two opens of one file are two
 * descriptions: two locks taken in one process contend as they would in two.
 *
 * The lock is held by a descriptor rather than by a `flock FILE cat` child that holds it while it
 * runs: no process per held lock (a build holds a shared lock on every cached object it reads), a
 * release that is done when it returns, and no holder that a signal to the whole process group
 * (Ctrl-C, a service manager's stop) ends, freeing the lock while this process still works under it.
 */
import { closeSync, openSync } from 'node:fs';
import { HostError, HostErrorCode } from './errors.ts';
import { run } from './process.ts';

export type LockMode = 'shared' | 'exclusive';

export interface HeldLock {
  /** Releases the lock (closes its descriptor); a second call does nothing. */
  release(): void;
}

/** flock's exit status when the lock was not free in time. */
const CONFLICT = 75;

/**
 * Takes the lock on `path` (created if missing), waiting at most `timeoutSeconds` (0: not at all);
 * undefined when someone else held it incompatibly all that time. Throws a HostError when the file
 * cannot be opened or flock fails otherwise.
 */
export async function lock(
  path: string,
  mode: LockMode,
  timeoutSeconds: number,
): Promise<HeldLock | undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (err) {
    throw new HostError(HostErrorCode.Lock, `cannot open the lock file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const r = await run(
      [
        'flock',
        mode === 'shared' ? '--shared' : '--exclusive',
        ...(timeoutSeconds === 0 ? ['--nonblock'] : ['--timeout', String(timeoutSeconds)]),
        '--conflict-exit-code',
        String(CONFLICT),
        '3',
      ],
      { extraFds: [fd], okCodes: 'any' },
    );
    if (r.exitCode === CONFLICT) {
      closeSync(fd);
      return undefined;
    }
    if (r.exitCode !== 0) {
      throw new HostError(HostErrorCode.Lock, `flock ${path} failed (${r.exitCode}): ${r.stderr.trim()}`);
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}

/** Takes the lock or returns undefined at once if someone else holds it incompatibly. */
export function tryLock(path: string, mode: LockMode): Promise<HeldLock | undefined> {
  return lock(path, mode, 0);
}
