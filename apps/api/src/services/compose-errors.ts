/**
 * How the compose service classes the errors of a compose start: the reason kept in the store
 * (`errorOf`), whether the request is at fault (400) or the service (500) when a caller waited for
 * the manifest (ComposePlanError), and the refusal of the queue.
 */
import { AptError, AptErrorCode } from '@debian-forge/apt';
import { ComposerError } from '@debian-forge/composer';
import { ManifestError } from '@debian-forge/manifest';
import { ApiError, ApiErrorCode, apiErrorOf, ComposeErrorCode } from '../errors.ts';

/**
 * Why a compose whose caller waited for its manifest was refused (it is removed): `code` is the
 * reason's own code (an AptError's, a ComposerError's, `FORGE_ERR_COMPOSE_QUEUE` …); the status is
 * 400 when the request is at fault (a package apt cannot find or install, bad options) and 500
 * otherwise (a repository that cannot be read, the queue, a fault of the service).
 */
export class ComposePlanError extends ApiError {
  constructor(err: unknown) {
    const { code, message } = errorOf(err);
    super(requestAtFault(err) ? 400 : 500, code, message);
  }
}

const REQUEST_APT_ERRORS: readonly string[] = [
  AptErrorCode.NotFound,
  AptErrorCode.Unsatisfiable,
  AptErrorCode.Request,
  // A blueprint's source package that the archive does not have, or not in that version.
  AptErrorCode.SourceNotFound,
  AptErrorCode.SourceVersion,
];

function requestAtFault(err: unknown): boolean {
  if (err instanceof AptError) return REQUEST_APT_ERRORS.includes(err.code);
  return err instanceof ComposerError || err instanceof ManifestError;
}

/** The reason of a failure as kept in the store: `{code, message}`. */
export function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof ComposerError || err instanceof AptError || err instanceof ManifestError) {
    return { code: err.code, message: err.message };
  }
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' && e.code.startsWith('FORGE_ERR_') ? e.code : ApiErrorCode.Internal,
    message: String(e?.message ?? err),
  };
}

/**
 * The error of a build job the queue would not take: Redis away passes (its status, 503: try
 * again); any other refusal of the queue is the service's fault.
 */
export function queueRefusal(err: unknown): ApiError {
  const reason = `the build job could not be queued: ${(err as Error)?.message ?? String(err)}`;
  const known = apiErrorOf(err);
  return new ApiError(known?.status ?? 500, known?.code ?? ComposeErrorCode.Queue, reason);
}
