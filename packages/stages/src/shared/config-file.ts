/**
 * Shared by the stages that write small configuration files into the tree's /etc in place of
 * `systemd-firstboot --root` (org.osbuild.hostname, timezone, locale, keymap): replacing a file, and
 * the checks systemd applies to the values it writes.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { StageError } from './errors.ts';
import { inRoot } from './paths.ts';

/**
 * Writes `path` in the tree as a new regular file: an existing file or symbolic link there is
 * removed first (not written through), missing parent directories are created.
 */
export function replaceFile(tree: string, path: string, content: string, mode = 0o644): string {
  const target = inRoot(tree, path, false);
  try {
    mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
    rmSync(target, { force: true });
    writeFileSync(target, content, { mode });
    chmodSync(target, mode);
  } catch (err) {
    throw new StageError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return target;
}

/** Removes `path` from the tree when it is there (a symbolic link itself, not its target). */
export function removeFile(tree: string, path: string): void {
  rmSync(inRoot(tree, path, false), { force: true });
}

/** systemd's `string_is_safe`: no control characters, quotes or backslashes. */
export function isSafeString(s: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  return !/[\x00-\x1f\x7f"'\\]/.test(s);
}

/** systemd's `filename_is_valid`: one path component. */
export function isFilename(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !s.includes('/') && Buffer.byteLength(s) <= 255;
}
