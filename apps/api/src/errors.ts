/**
 * Errors the routes throw, and the one error handler of the API families: each family gives only
 * its envelope (weldr/plugin.ts, cloud/plugin.ts, forge/plugin.ts); a route never builds an error
 * body by hand.
 */
import { QueueErrorCode } from '@debian-forge/queue';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** The API's own codes (the compose service's and the artifacts' are beside their code). */
export const ApiErrorCode = {
  /** A fault of the service: an error without a code of ours. */
  Internal: 'FORGE_ERR_INTERNAL',
  /** A compose's job vanished from the queue (Redis lost its data) and the compose was failed. */
  JobLost: 'FORGE_ERR_JOB_LOST',
  /** The compose service is not running (the API was started without a queue). */
  Unavailable: 'FORGE_ERR_UNAVAILABLE',
  /** An HTTP error of Fastify's without a code of its own. */
  Http: 'FORGE_ERR_HTTP',
  /** A failed compose whose stored reason carries no code. */
  Unknown: 'FORGE_ERR_UNKNOWN',
  /** A JSON body nests deeper than the API allows. */
  JsonTooDeep: 'FORGE_ERR_JSON_TOO_DEEP',
} as const;

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

/** An answer of an error handler: the HTTP status and the body in an API family's envelope. */
export interface ErrorAnswer {
  status: number;
  body: unknown;
}

/** How one API family words each kind of error; `errorHandler` decides which kind it is. */
export interface ErrorEnvelope {
  /** The family's name for the log line of a fault (`weldr` logs "weldr route failed"). */
  family: string;
  api(err: ApiError): ErrorAnswer;
  weldr(err: WeldrError): ErrorAnswer;
  /** An error of Fastify's (a bad body, a failed schema) or a fault, with its HTTP status (≥ 400). */
  http(status: number, err: FastifyError): ErrorAnswer;
}

/**
 * The error handler of an API family: lower packages' codes that have a status here become
 * ApiErrors (apiErrorOf), a fault (a status of 500 or more that is no ApiError or WeldrError) is
 * logged with its stack, and `envelope` words the answer.
 */
export function errorHandler(envelope: ErrorEnvelope) {
  return (thrown: FastifyError | ApiError | WeldrError, request: FastifyRequest, reply: FastifyReply) => {
    const err = apiErrorOf(thrown) ?? thrown;
    let answer: ErrorAnswer;
    if (err instanceof ApiError) answer = envelope.api(err);
    else if (err instanceof WeldrError) answer = envelope.weldr(err);
    else {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) request.log.error({ err }, `${envelope.family} route failed`);
      answer = envelope.http(status, err);
    }
    return reply.code(answer.status).send(answer.body);
  };
}
