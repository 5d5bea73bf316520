/**
 * The error codes of Debian repository access. Each is stable: the composer, the CLI and the
 * service match on `code`, never on the message or the class. Messages quote apt's own words where
 * apt said something (its "unmet dependencies" block, "Unable to locate package X", its GPG lines).
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const AptErrorCode = {
  /** A requested package does not exist in the root's repositories (apt: "Unable to locate package"). */
  NotFound: 'FORGE_ERR_APT_NOT_FOUND',
  /** The request cannot be satisfied: no such version, a constraint nothing meets, conflicts. */
  Unsatisfiable: 'FORGE_ERR_APT_UNSATISFIABLE',
  /** No source package of that name, nor a binary package whose source could be taken (apt: "Unable to find a source package"). */
  SourceNotFound: 'FORGE_ERR_APT_SOURCE_NOT_FOUND',
  /** The source package exists, but not in the version asked for; the message names the known versions. */
  SourceVersion: 'FORGE_ERR_APT_SOURCE_VERSION',
  /** A repository's InRelease could not be verified with its keyring (or is not signed). */
  Signature: 'FORGE_ERR_APT_SIGNATURE',
  /** `apt-get update` failed for another reason (network, missing suite, HTTP error). */
  Update: 'FORGE_ERR_APT_UPDATE',
  /** A package request or option is malformed ("foo (>= )", an unknown base set …). */
  Request: 'FORGE_ERR_APT_REQUEST',
  /** Apt sources could not be read or parsed, or hold no Debian repository. */
  Sources: 'FORGE_ERR_APT_SOURCES',
  /** A keyring file is missing or an armoured key block could not be dearmoured. */
  Keyring: 'FORGE_ERR_APT_KEYRING',
  /** The root's lock could not be taken in time. */
  Lock: 'FORGE_ERR_APT_LOCK',
  /** A program (apt-get, gpg, flock) could not run or failed in a way none of the above covers. */
  Command: 'FORGE_ERR_APT_COMMAND',
} as const;

export type AptErrorCode = CodeOf<typeof AptErrorCode>;

export class AptError extends CodedError<AptErrorCode> {
  override readonly name = 'AptError';
  /** The id of the repository the error is about, when it is about one. */
  readonly repository: string | undefined;

  constructor(code: AptErrorCode, message: string, options?: { cause?: unknown; repository?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.repository = options?.repository;
  }
}
