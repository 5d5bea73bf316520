/**
 * Advisory locks on an apt root (flock(2) through flock(1), since Node.js has no flock). We open the
 * lock file ourselves and hand the descriptor to `flock N` as descriptor 3: the lock belongs to the
 * open file description, which we keep, so it stays held after `flock` exits and is released when
 * we close the descriptor — or when this process dies, whatever the cause. Node opens files with
 * O_CLOEXEC, so programs we start later (apt-get) do not inherit it.
 *
 * `update` takes the lock exclusively; readers (search, depsolve) take it shared, so they never see
 * lists that apt is in the middle of replacing.
 */
import { closeSync, openSync } from 'node:fs';
import { AptError, AptErrorCode } from './errors.ts';
import { run } from './exec.ts';

export type LockMode = 'shared' | 'exclusive';

export interface HeldLock {
  release(): void;
}

export async function lockFile(path: string, mode: LockMode, timeoutSeconds: number): Promise<HeldLock> {
  const fd = openSync(path, 'a');
  try {
    const r = await run(
      [
        'flock',
        mode === 'shared' ? '--shared' : '--exclusive',
        '--timeout',
        String(timeoutSeconds),
        '--conflict-exit-code',
        '75',
        '3',
      ],
      { extraFds: [fd] },
    );
    if (r.exitCode === 75) {
      throw new AptError(
        AptErrorCode.Lock,
        `could not lock ${path} within ${timeoutSeconds} s: another process is updating or reading this apt root`,
      );
    }
    if (r.exitCode !== 0) {
      throw new AptError(AptErrorCode.Command, `flock ${path} failed (${r.exitCode}): ${r.stderr.trim()}`);
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

export async function withLock<T>(
  path: string,
  mode: LockMode,
  timeoutSeconds: number,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await lockFile(path, mode, timeoutSeconds);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
