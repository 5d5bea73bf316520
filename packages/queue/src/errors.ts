/**
 * Error codes of the queue. A failed BullMQ job carries its reason as a string; ours is
 * `CODE: message`, so the API matches on the code (never on `instanceof`, which does not cross
 * processes) with `parseFailedReason`.
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const QueueErrorCode = {
  /** The payload or result does not match its contract. */
  INVALID_JOB: 'FORGE_ERR_INVALID_JOB',
  /** The job was cancelled while a worker ran it. */
  CANCELLED: 'FORGE_ERR_CANCELLED',
  /** The worker stopped renewing its lock (it died or hung) and the job was failed, not retried. */
  WORKER_LOST: 'FORGE_ERR_WORKER_LOST',
  /** The processor threw. */
  JOB_FAILED: 'FORGE_ERR_JOB_FAILED',
  /** A build ran to its end but its artifact is missing: the exported tree lacks the job's file, or
   *  the worker reported success and the API holds no artifact of the compose. */
  ARTIFACT_MISSING: 'FORGE_ERR_ARTIFACT_MISSING',
  /**
   * Redis did not answer a call in time (refused, closed, or hanging): nothing was done that the
   * caller can count on. The API answers it with 503; it passes when Redis is back.
   */
  REDIS_UNAVAILABLE: 'FORGE_ERR_REDIS_UNAVAILABLE',
  /** The Redis URL, or a TLS file it needs, is wrong (bad scheme, unreadable CA file …). */
  REDIS_CONFIG: 'FORGE_ERR_REDIS_CONFIG',
  /** Redis refused the credentials (NOAUTH, WRONGPASS), or its ACL denies a command BullMQ needs. */
  REDIS_AUTH: 'FORGE_ERR_REDIS_AUTH',
  /** The TLS connection to Redis failed: an unknown CA, a wrong host name, a client certificate refused. */
  REDIS_TLS: 'FORGE_ERR_REDIS_TLS',
} as const;
export type QueueErrorCode = CodeOf<typeof QueueErrorCode>;

export class QueueError extends CodedError<QueueErrorCode> {
  override readonly name = 'QueueError';
}

/** Whether `err` is (by its code) a call that failed because Redis was unreachable. */
export function isRedisUnavailable(err: unknown): boolean {
  return (err as { code?: unknown })?.code === QueueErrorCode.REDIS_UNAVAILABLE;
}

export function formatFailedReason(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** BullMQ's own reason when a stalled job exceeds `maxStalledCount` (0 for us: fail at once). */
const STALLED = /stalled more than allowable limit/;

export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const text = reason ?? '';
  const m = /^(FORGE_ERR_[A-Z_]+): ([\s\S]*)$/.exec(text);
  if (m) return { code: m[1] as string, message: m[2] as string };
  if (STALLED.test(text)) {
    return { code: QueueErrorCode.WORKER_LOST, message: `the worker stopped sending heartbeats (${text})` };
  }
  return { code: QueueErrorCode.JOB_FAILED, message: text };
}
