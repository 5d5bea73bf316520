/**
 * Advisory locks on an apt root: the host layer's flock locks (`@debian-forge/host`), with apt's
 * errors. `update` takes the lock exclusively; readers (search, depsolve) take it shared, so they
 * never see lists that apt is in the middle of replacing.
 */
import { HostError, type LockMode, lock } from '@debian-forge/host';
import { AptError, AptErrorCode } from './errors.ts';

export async function withLock<T>(
  path: string,
  mode: LockMode,
  timeoutSeconds: number,
  fn: () => Promise<T>,
): Promise<T> {
  let held: Awaited<ReturnType<typeof lock>>;
  try {
    held = await lock(path, mode, timeoutSeconds);
  } catch (err) {
    if (err instanceof HostError) throw new AptError(AptErrorCode.Command, err.message, { cause: err });
    throw err;
  }
  if (!held) {
    throw new AptError(
      AptErrorCode.Lock,
      `could not lock ${path} within ${timeoutSeconds} s: another process is updating or reading this apt root`,
    );
  }
  try {
    return await fn();
  } finally {
    held.release();
  }
}
