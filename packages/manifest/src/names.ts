/**
 * The one place that decides whether a name may become a path. A manifest, a request or a command
 * line names pipelines, exports, inputs, source items and artifact files; each of those ends up as
 * a directory or a file on the host (`<output>/<export>`, `<run>/inputs/<input>`,
 * `<artifacts>/<uuid>/<file>`), written and read as root. OSBuild's schema limits names only
 * loosely, so every such name is checked here before it is used, in the API, the worker and the CLI
 * alike:
 *  - `nameProblem`/`checkName`: a name is exactly one path component: not empty, not `.` or `..`,
 *    no `/`, no NUL or other control character, valid Unicode, at most NAME_MAX_BYTES bytes of
 *    UTF-8 (the file name limit of Linux file systems).
 *  - `joinInside`: a directory joined with a name (or, where a path inside a tree is allowed, a
 *    relative path of such names), refused when the result would lie outside the directory, also
 *    through a symbolic link already there: a build can leave links to anywhere in its tree.
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ManifestError, ManifestErrorCode } from './errors.ts';

/** Longest name in bytes (UTF-8): NAME_MAX of Linux file systems. */
export const NAME_MAX_BYTES = 255;

export interface NameOptions {
  /**
   * Only the POSIX portable file name characters `A-Za-z0-9._-`, starting with a letter or digit:
   * for names that also travel in HTTP headers and URLs (artifact files, Content-Disposition).
   */
  portable?: boolean;
}

// C0 controls, DEL and C1 controls (Unicode category Cc).
const CONTROL = /\p{Cc}/u;
// A surrogate on its own: with the u flag a well-formed pair is one code point, not of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;
const PORTABLE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `name` cannot be one path component (a phrase such as "it contains '/'"), or undefined. */
export function nameProblem(name: unknown, options: NameOptions = {}): string | undefined {
  if (typeof name !== 'string') return `it is ${name === null ? 'null' : typeof name}, not a string`;
  if (name === '') return 'it is empty';
  if (name === '.' || name === '..') return `'${name}' names a directory, not an entry in it`;
  if (name.includes('/')) return "it contains '/'";
  if (name.includes('\u0000')) return 'it contains a NUL character';
  const control = CONTROL.exec(name);
  if (control) {
    const code = (control[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
    return `it contains the control character U+${code}`;
  }
  // A lone surrogate would be written as U+FFFD: two different names, one file.
  if (LONE_SURROGATE.test(name)) return 'it is not valid Unicode (a lone surrogate)';
  const bytes = Buffer.byteLength(name);
  if (bytes > NAME_MAX_BYTES) return `it is ${bytes} bytes long, more than ${NAME_MAX_BYTES}`;
  if (options.portable && !PORTABLE.test(name)) {
    return 'only letters, digits, . _ and - are allowed, and it must start with a letter or digit';
  }
  return undefined;
}

/** A name as messages show it: quoted, escapes visible, long ones cut. */
export function showName(name: unknown): string {
  if (typeof name !== 'string') return String(name);
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 60)}…` : name);
  return name.length > 80 ? `${shown} (${name.length} characters)` : shown;
}

/** What is wrong with `name` as `what` (a whole sentence naming both), or undefined when it is safe. */
export function nameError(name: unknown, what: string, options: NameOptions = {}): string | undefined {
  const problem = nameProblem(name, options);
  return problem === undefined
    ? undefined
    : `${what} ${showName(name)} cannot be used as a file name: ${problem}`;
}

/** `name` when it is one safe path component; else a ManifestError (FORGE_ERR_UNSAFE_NAME) naming `what`. */
export function checkName(name: unknown, what: string, options: NameOptions = {}): string {
  const message = nameError(name, what, options);
  if (message !== undefined) throw new ManifestError(ManifestErrorCode.UnsafeName, message);
  return name as string;
}

export interface InsideOptions {
  /** What the name is, for messages ("export", "artifact file"); "name" by default. */
  what?: string;
  /**
   * Takes a path inside the directory, written as paths in a tree are: names separated by `/`,
   * where empty and `.` components are skipped (so `/boot/efi` is `boot/efi` of the directory, and
   * `''` or `/` the directory itself); every other component must be a safe name. Without it the
   * name must be exactly one component.
   */
  relative?: boolean;
}

function isInside(base: string, path: string): boolean {
  return base === sep || path === base || path.startsWith(base + sep);
}

/**
 * `dir` joined with `name`, checked: the name (each component of a relative path) is safe, and no
 * symbolic link already there leads out of `dir` (each existing component is looked at with
 * lstat; a link is followed with realpath and must stay inside the real path of `dir`). Returns
 * `dir` joined with the path as checked, the links inside resolved, so what is used is what was
 * checked (and callers that cut `dir` off the result still can). `dir` must exist.
 * Throws a ManifestError: FORGE_ERR_UNSAFE_NAME for a bad name, FORGE_ERR_PATH_OUTSIDE for a path
 * that leads out.
 */
export function joinInside(dir: string, name: string, options: InsideOptions = {}): string {
  const what = options.what ?? 'name';
  let parts: string[];
  if (options.relative) {
    if (typeof name !== 'string') checkName(name, what);
    parts = name.split('/').filter((p) => p !== '' && p !== '.');
    for (const part of parts) {
      const problem = nameProblem(part);
      if (problem !== undefined) {
        throw new ManifestError(
          ManifestErrorCode.UnsafeName,
          `${what} ${showName(name)} is not a path inside its directory: component ${showName(part)}: ${problem}`,
        );
      }
    }
  } else {
    parts = [checkName(name, what)];
  }
  const base = realpathSync.native(dir);
  let current = base;
  for (const [i, part] of parts.entries()) {
    const next = join(current, part);
    let stat: Stats | undefined;
    try {
      stat = lstatSync(next, { throwIfNoEntry: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    // Nothing there (or a file where a directory is meant): no link to follow further down.
    if (!stat) return join(dir, relative(base, next), ...parts.slice(i + 1));
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    let real: string;
    try {
      real = realpathSync.native(next);
    } catch {
      throw new ManifestError(
        ManifestErrorCode.PathOutside,
        `${what} ${showName(name)} goes through the symbolic link ${next}, which leads nowhere`,
      );
    }
    if (!isInside(base, real)) {
      throw new ManifestError(
        ManifestErrorCode.PathOutside,
        `${what} ${showName(name)} leads out of ${dir}: ${next} is a symbolic link to ${real}`,
      );
    }
    current = real;
  }
  return join(dir, relative(base, current));
}
