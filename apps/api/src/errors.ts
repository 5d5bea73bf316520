/**
 * Errors the routes throw. Each API family answers them in its own envelope (see the error
 * handlers in weldr/plugin.ts, cloud/plugin.ts, forge/plugin.ts); a route never builds an error
 * body by hand.
 */

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
