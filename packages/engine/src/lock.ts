/**
 * Advisory file locks (flock(2)) for the object store. Node.js has no flock, so a lock is held by a
 * small `flock … cat` child process: the lock is taken when `cat` echoes the byte we send it, and
 * released when we close its standard input — or when this process dies for any reason, because
 * the pipe then closes by itself. So a killed build never leaves a lock behind.
 *
 * `tryLock` never waits (contention is a miss, as in OSBuild's cache); `lock` waits at most
 * `timeoutSeconds`, so two builds sharing a store never wait on each other forever.
 */
import { EngineError, EngineErrorCode } from './errors.ts';
import { spawnPiped } from './exec.ts';

export interface HeldLock {
  release(): Promise<void>;
}

export type LockMode = 'shared' | 'exclusive';

/** Takes the lock or returns undefined at once if someone else holds it incompatibly. */
export function tryLock(path: string, mode: LockMode): Promise<HeldLock | undefined> {
  return acquire(path, mode, ['--nonblock']);
}

/** Takes the lock, waiting at most `timeoutSeconds`; throws when it could not. */
export async function lock(path: string, mode: LockMode, timeoutSeconds = 60): Promise<HeldLock> {
  const held = await acquire(path, mode, ['--timeout', String(timeoutSeconds)]);
  if (!held) {
    throw new EngineError(
      EngineErrorCode.Store,
      `could not lock ${path} within ${timeoutSeconds} s: another build holds it`,
    );
  }
  return held;
}

function acquire(path: string, mode: LockMode, wait: string[]): Promise<HeldLock | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawnPiped([
      'flock',
      mode === 'shared' ? '--shared' : '--exclusive',
      ...wait,
      '--conflict-exit-code',
      '75',
      path,
      'cat',
    ]);
    let settled = false;
    let stderr = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.once('data', () => {
      settled = true;
      resolve({
        async release() {
          child.stdin.end();
          await exited;
        },
      });
    });
    child.once('error', (err) => {
      if (!settled) reject(new EngineError(EngineErrorCode.Host, `cannot run flock: ${err.message}`));
    });
    child.once('exit', (code) => {
      if (settled) return;
      settled = true;
      if (code === 75 || code === 1) resolve(undefined);
      else reject(new EngineError(EngineErrorCode.Store, `flock ${path} failed (${code}): ${stderr.trim()}`));
    });
    // flock exits at once when the lock is taken (--nonblock): then this write fails with EPIPE,
    // which the exit handler above has answered already.
    child.stdin.on('error', () => {});
    child.stdin.write('\n');
  });
}
