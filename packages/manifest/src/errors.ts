/**
 * Typed errors of the manifest package. Each has a stable `code`: callers (the CLI, later the API)
 * match on the code, never on the message or on `instanceof`, so errors stay recognisable after
 * crossing a process boundary as `{code, message}`.
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const ManifestErrorCode = {
  /** The manifest text is not JSON (or not UTF-8). */
  JsonSyntax: 'FORGE_ERR_MANIFEST_JSON',
  /** The manifest is larger than the configured limit. */
  TooLarge: 'FORGE_ERR_MANIFEST_TOO_LARGE',
  /** Objects or arrays nest deeper than the configured limit. */
  TooDeep: 'FORGE_ERR_MANIFEST_TOO_DEEP',
  /** The manifest declares a format version other than "2". */
  UnsupportedFormat: 'FORGE_ERR_MANIFEST_FORMAT',
  /** The manifest is well-formed JSON but its structure breaks OSBuild's loading rules. */
  Invalid: 'FORGE_ERR_MANIFEST_INVALID',
  /** A value cannot be written as JSON the way Python's json module writes it. */
  NotSerialisable: 'FORGE_ERR_JSON_VALUE',
  /** A name that becomes a path is not one safe path component (`..`, `/`, NUL, too long …). */
  UnsafeName: 'FORGE_ERR_UNSAFE_NAME',
  /** A path would lie outside its directory, through a symbolic link already there. */
  PathOutside: 'FORGE_ERR_PATH_OUTSIDE',
} as const;

export type ManifestErrorCode = CodeOf<typeof ManifestErrorCode>;

export class ManifestError extends CodedError<ManifestErrorCode> {
  override readonly name = 'ManifestError';
  /** JSON path of the offending element, when there is one. */
  readonly path: (string | number)[];

  constructor(code: ManifestErrorCode, message: string, path: (string | number)[] = []) {
    super(code, message);
    this.path = path;
  }
}
