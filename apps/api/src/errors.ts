/**
 * Errors the routes throw. Each API family answers them in its own envelope (see the error
 * handlers in weldr/plugin.ts, cloud/plugin.ts, forge/plugin.ts); a route never builds an error
 * body by hand.
 */
import { QueueErrorCode } from '@debian-forge/queue';

/** A Weldr error: HTTP status, Weldr error id (e.g. `UnknownBlueprint`) and message. */
export class WeldrError extends Error {
  override readonly name = 'WeldrError';
  readonly status: number;
  readonly id: string;

  constructor(status: number, id: string, msg: string) {
    super(msg);
    this.status = status;
    this.id = id;
  }
}

/** An error of the Cloud API and the Forge API: HTTP status, stable code and reason. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, reason: string, details?: unknown) {
    super(reason);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Errors of the packages below that reach a route unchanged and have a status of their own here,
 * by their stable code (the API matches codes, never classes): Redis being unreachable is a 503
 * that passes when it is back, not a fault of the service.
 */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  [QueueErrorCode.REDIS_UNAVAILABLE]: 503,
};

/** `err` as an ApiError when it is one or its code has a status in STATUS_OF_CODE; else undefined. */
export function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown })?.code;
  const status = typeof code === 'string' ? STATUS_OF_CODE[code] : undefined;
  if (status === undefined) return undefined;
  return new ApiError(status, code as string, String((err as Error).message));
}
