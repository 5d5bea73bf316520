/**
 * The object store's locks: the host layer's flock locks (`@debian-forge/host`), with the engine's
 * error (Store) when one cannot be taken. `tryLock` never waits (contention is a miss, as in
 * OSBuild's cache); `lock` waits at most `timeoutSeconds`, so two builds sharing a store never wait
 * on each other forever.
 */
import {
  type HeldLock,
  HostError,
  lock as hostLock,
  tryLock as hostTryLock,
  type LockMode,
} from '@debian-forge/host';
import { EngineError, EngineErrorCode } from './errors.ts';

function storeError(err: unknown): unknown {
  return err instanceof HostError ? new EngineError(EngineErrorCode.Store, err.message, { cause: err }) : err;
}

/** Takes the lock or returns undefined at once if someone else holds it incompatibly. */
export async function tryLock(path: string, mode: LockMode): Promise<HeldLock | undefined> {
  try {
    return await hostTryLock(path, mode);
  } catch (err) {
    throw storeError(err);
  }
}

/** Takes the lock, waiting at most `timeoutSeconds`; throws when it could not. */
export async function lock(path: string, mode: LockMode, timeoutSeconds = 60): Promise<HeldLock> {
  let held: HeldLock | undefined;
  try {
    held = await hostLock(path, mode, timeoutSeconds);
  } catch (err) {
    throw storeError(err);
  }
  if (!held) {
    throw new EngineError(
      EngineErrorCode.Store,
      `could not lock ${path} within ${timeoutSeconds} s: another build holds it`,
    );
  }
  return held;
}
