/**
 * The host layer's error codes. Each is stable. The engine and apt give these failures codes of
 * their own (their callers match on those), so these reach a user only from the host's other
 * callers (the CLI's embedded Redis, test helpers).
 */
export const HostErrorCode = {
  /** A program could not be started (not installed, not executable, an empty command). */
  Start: 'FORGE_ERR_HOST_START',
  /** A program exited with a status its caller does not accept, or was killed. */
  Exit: 'FORGE_ERR_HOST_EXIT',
  /** flock(1) failed for another reason than the lock being held (no such directory …). */
  Lock: 'FORGE_ERR_HOST_LOCK',
  /** /proc does not say what it must (this process's start time). */
  Proc: 'FORGE_ERR_HOST_PROC',
} as const;

export type HostErrorCode = (typeof HostErrorCode)[keyof typeof HostErrorCode];

export class HostError extends Error {
  override readonly name = 'HostError';
  readonly code: HostErrorCode;

  constructor(code: HostErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
