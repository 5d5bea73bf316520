/**
 * The one shape of a typed error: a stable `FORGE_ERR_*` code and a message. Callers match on the
 * code, never on the message or on `instanceof`, so an error keeps its meaning after crossing a
 * process boundary as `{code, message}` (a failed job's reason, an API answer).
 *
 * A package declares its codes as a `const` object (one line of doc each) and its error class as
 * `class XError extends CodedError<XErrorCode>`; scripts/check-error-codes.ts checks that each code
 * is written once in the tree and listed in docs/ERRORS.md.
 */

/** The union of the codes of a code table `{ Name: 'FORGE_ERR_…' }`. */
export type CodeOf<T extends Readonly<Record<string, string>>> = T[keyof T];

export class CodedError<C extends string = string> extends Error {
  override readonly name: string = 'CodedError';
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Codes that mean the same in every program of the tree (the API service, the worker). */
export const CommonErrorCode = {
  /** A program's configuration (options, environment, a file it names) is incomplete or wrong. */
  Config: 'FORGE_ERR_CONFIG',
} as const;
