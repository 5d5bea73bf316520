/**
 * Errors of the blueprint package. Each has a stable `code` that callers (the API maps them to
 * Weldr's `BlueprintsError`) match on, never the message; every problem carries its JSON path.
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const BlueprintErrorCode = {
  /** The text is not valid TOML or JSON; `line` and `column` say where. */
  Syntax: 'FORGE_ERR_BLUEPRINT_SYNTAX',
  /** The document parses but is not a valid blueprint; `issues` lists every problem. */
  Invalid: 'FORGE_ERR_BLUEPRINT_INVALID',
  /** Freezing failed: a package is missing from the depsolve results or its version does not fit. */
  Freeze: 'FORGE_ERR_BLUEPRINT_FREEZE',
} as const;

export type BlueprintErrorCode = CodeOf<typeof BlueprintErrorCode>;

export type JsonPath = (string | number)[];

export interface BlueprintIssue {
  /** JSON path of the offending value, `[]` for the whole document. */
  path: JsonPath;
  message: string;
}

/** `.customizations.user[0].name`; `.` for the document itself (the manifest package's style). */
export function pathId(path: JsonPath): string {
  if (path.length === 0) return '.';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? `.${p}` : `.'${p}'`))
    .join('');
}

export function formatIssue(issue: BlueprintIssue): string {
  return `${pathId(issue.path)}: ${issue.message}`;
}

export class BlueprintError extends CodedError<BlueprintErrorCode> {
  override readonly name = 'BlueprintError';
  readonly issues: BlueprintIssue[];
  /** 1-based position of a syntax error. */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(
    code: BlueprintErrorCode,
    message: string,
    issues: BlueprintIssue[] = [],
    position: { line?: number; column?: number } = {},
  ) {
    super(code, message);
    this.issues = issues;
    this.line = position.line;
    this.column = position.column;
  }

  static invalid(issues: BlueprintIssue[]): BlueprintError {
    const lines = issues.map(formatIssue);
    const head =
      issues.length === 1 ? 'invalid blueprint: ' : `invalid blueprint (${issues.length} problems):\n`;
    return new BlueprintError(BlueprintErrorCode.Invalid, head + lines.join('\n'), issues);
  }
}
