/**
 * The API's error registry: its own codes, how each API answers a code (ERROR_ANSWERS: the HTTP
 * status, Weldr's id, the Cloud API's id), the errors the routes throw, and the one error handler
 * of the API families: each family gives only its envelope (weldr/plugin.ts, cloud/plugin.ts,
 * forge/plugin.ts); a route never builds an error body by hand. The codes and their meanings are
 * listed in docs/ERRORS.md.
 */
import { AptErrorCode } from '@debian-forge/apt';
import { BlueprintErrorCode } from '@debian-forge/blueprint';
import { ComposerErrorCode } from '@debian-forge/composer';
import { ManifestErrorCode } from '@debian-forge/manifest';
import { QueueErrorCode } from '@debian-forge/queue';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** The API's own codes. */
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

/** Stable codes of the compose service's errors (services/compose-*.ts). */
export const ComposeErrorCode = {
  /** No compose of that id. */
  NotFound: 'FORGE_ERR_COMPOSE_NOT_FOUND',
  /** The compose is not in a state that allows the operation. */
  WrongState: 'FORGE_ERR_COMPOSE_STATE',
  /** The request names an unknown image type, distro or architecture, or a bad size or priority. */
  BadRequest: 'FORGE_ERR_COMPOSE_REQUEST',
  /** A raw manifest that does not validate: the manifest package's code. */
  BadManifest: ManifestErrorCode.Invalid,
  /** The build job of a compose could not be added to the queue. */
  Queue: 'FORGE_ERR_COMPOSE_QUEUE',
  /** A worker asked for a compose's plan with a job that is not the compose's. */
  WrongJob: 'FORGE_ERR_COMPOSE_JOB',
  /** The failure a test compose (`?test=1`) ends with. */
  TestCompose: 'FORGE_ERR_TEST_COMPOSE',
} as const;

/** Codes of an upload the sender got wrong (400): the compose stays BUILDING, it may send again. */
export const ArtifactErrorCode = {
  /** The bytes do not have the sha256 the sender announced. */
  Checksum: 'FORGE_ERR_CHECKSUM',
  /** The length is not the Content-Length the sender announced. */
  Size: 'FORGE_ERR_SIZE',
  /** A bad header or file name, or a body broken off (the worker's own code for a refusal is
   *  `FORGE_ERR_UPLOAD_REFUSED`). */
  BadUpload: 'FORGE_ERR_UPLOAD',
} as const;

/** Codes of an artifact the server could not store (5xx): the compose ends FAILED. */
export const ArtifactStorageErrorCode = {
  /** No room for the artifact: the file system (or a quota) is full. 507. */
  Full: 'FORGE_ERR_ARTIFACTS_FULL',
  /** The artifacts directory cannot be written (permissions, a read-only mount). 500. */
  Unwritable: 'FORGE_ERR_ARTIFACTS_UNWRITABLE',
  /** Another failure of the server's storage (an I/O error, the database …). 500. */
  Storage: 'FORGE_ERR_ARTIFACTS_STORAGE',
} as const;

/** Codes of the service's OSTree repository served over HTTP (forge/ostree-repo.ts). */
export const OstreeRepoErrorCode = {
  /** No such file in the repository, or a path an OSTree client does not fetch. */
  NotFound: 'FORGE_ERR_OSTREE_NOT_FOUND',
} as const;

/** How the APIs answer one code. */
export interface CodeAnswer {
  /**
   * The HTTP status of an error of this code (ApiError.of), also when a package below throws it:
   * so only the API's own codes and those of a package below that mean the same wherever they
   * reach a route (a refused blueprint or manifest is the request's fault in one route, a fault
   * of the service in another, and has none).
   */
  status?: number;
  /** Weldr's id and status when compose start is refused with this code, as composer answers it. */
  weldr?: { id: string; status: number };
  /** The Cloud API's id when a compose request is refused with this code. */
  cloud?: string;
}

const PUSH_ERRORED = { id: 'ComposePushErrored', status: 500 };
/** Every failure to depsolve is one answer of composer's: 500, whoever is at fault. */
const DEPSOLVE_ERROR = { id: 'DepsolveError', status: 500 };
const SOURCE_PACKAGE_ERROR = { id: 'SourcePackageError', status: 400 };

/**
 * Each code's answers, once. A code without a row has no status of its own (a route gives it, or
 * it is a fault, 500) and the default ids (Weldr `ComposeError` for a refused request, the code
 * itself in the Cloud API).
 */
export const ERROR_ANSWERS: Readonly<Record<string, CodeAnswer>> = {
  // Redis being unreachable is a 503 that passes when it is back, not a fault of the service.
  [QueueErrorCode.REDIS_UNAVAILABLE]: { status: 503, weldr: PUSH_ERRORED },
  [ComposeErrorCode.NotFound]: { status: 404 },
  [ComposeErrorCode.WrongState]: { status: 409 },
  [ComposeErrorCode.WrongJob]: { status: 409 },
  [ComposeErrorCode.BadRequest]: { status: 400, cloud: 'BadRequest' },
  [ComposeErrorCode.Queue]: { weldr: PUSH_ERRORED },
  [ArtifactErrorCode.Checksum]: { status: 400 },
  [ArtifactErrorCode.Size]: { status: 400 },
  [ArtifactErrorCode.BadUpload]: { status: 400 },
  // 507 Insufficient Storage (RFC 4918): room has to be made; the others are the server's too.
  [ArtifactStorageErrorCode.Full]: { status: 507 },
  [ArtifactStorageErrorCode.Unwritable]: { status: 500 },
  [ArtifactStorageErrorCode.Storage]: { status: 500 },
  [ApiErrorCode.Unavailable]: { status: 503 },
  [OstreeRepoErrorCode.NotFound]: { status: 404 },
  [BlueprintErrorCode.Invalid]: { weldr: { id: 'BlueprintsError', status: 400 } },
  [ComposerErrorCode.Distro]: { weldr: { id: 'DistroError', status: 400 }, cloud: 'UnsupportedDistribution' },
  [ComposerErrorCode.ImageType]: {
    weldr: { id: 'ComposeError', status: 400 },
    cloud: 'UnsupportedImageType',
  },
  [ComposerErrorCode.Arch]: { cloud: 'UnsupportedArchitecture' },
  [ComposerErrorCode.Ostree]: { weldr: { id: 'OSTreeOptionsError', status: 400 } },
  ...Object.fromEntries(Object.values(AptErrorCode).map((code) => [code, { weldr: DEPSOLVE_ERROR }])),
  // A blueprint's source package the archive lacks (or lacks in that version), whose build
  // dependencies cannot be met, that builds no package `install` names, or a local path that is no
  // (or too large a) source package: composer has no source
  // packages, so the answer is ours, and the request is at fault.
  ...Object.fromEntries(
    [
      AptErrorCode.SourceNotFound,
      AptErrorCode.SourceVersion,
      ComposerErrorCode.BuildDepends,
      ComposerErrorCode.SourceInstall,
      ComposerErrorCode.LocalSource,
      ComposerErrorCode.LocalSourceFile,
      ComposerErrorCode.LocalSourceSize,
      ComposerErrorCode.LocalSourceDenied,
    ].map((code) => [code, { weldr: SOURCE_PACKAGE_ERROR, cloud: 'SourcePackageError' }]),
  ),
};

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

  /** An ApiError with the status ERROR_ANSWERS gives `code` (500 when it gives none). */
  static of(code: string, reason: string, details?: unknown): ApiError {
    return new ApiError(ERROR_ANSWERS[code]?.status ?? 500, code, reason, details);
  }
}

/**
 * `err` as an ApiError when it is one or its code has a status in ERROR_ANSWERS (an error of a
 * package below that reaches a route unchanged: the API matches codes, never classes); else
 * undefined.
 */
export function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown })?.code;
  const status = typeof code === 'string' ? ERROR_ANSWERS[code]?.status : undefined;
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
