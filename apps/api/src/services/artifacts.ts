/**
 * When the service cannot store an artifact. Writing an image into `<artifactsDir>/<uuid>/` can
 * fail on the server's side — no space left, a quota, a read-only or unwritable directory, an I/O
 * error, a full database — and that is never the client's fault: the answer is a 5xx, whatever
 * was half written is removed, and the compose ends FAILED with the reason instead of staying
 * BUILDING.
 *
 * Statuses: 507 Insufficient Storage (RFC 4918, what WebDAV servers answer when a PUT does not
 * fit) when there is no room (ENOSPC, EDQUOT, SQLITE_FULL); 500 when the directory cannot be
 * written (EACCES, EPERM, EROFS) or the storage fails otherwise (EIO …). Neither is worth an
 * immediate retry: room has to be made, or the directory fixed, by someone.
 */
import { mkdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.ts';

const ArtifactStorageErrorCode = {
  /** No room for the artifact: the file system (or a quota) is full. 507. */
  Full: 'FORGE_ERR_ARTIFACTS_FULL',
  /** The artifacts directory cannot be written (permissions, a read-only mount). 500. */
  Unwritable: 'FORGE_ERR_ARTIFACTS_UNWRITABLE',
  /** Another failure of the server's storage (an I/O error, the database …). 500. */
  Storage: 'FORGE_ERR_ARTIFACTS_STORAGE',
} as const;

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);
/** Other errno codes that only the server's own files give (never a client's connection). */
const STORAGE = new Set(['EIO', 'EFBIG', 'EMFILE', 'ENFILE', 'ENOMEM', 'ESTALE', 'EUCLEAN']);
/** System calls on files: an error of one of them is the server's, whatever its code. */
const FILE_CALLS = new Set(['open', 'write', 'close', 'fsync', 'mkdir', 'rename', 'unlink', 'rmdir']);

/** Whether `err` is a failure of the server's storage (rather than, say, a client hanging up). */
export function isStorageError(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  return (
    FULL.has(code) ||
    UNWRITABLE.has(code) ||
    STORAGE.has(code) ||
    code.startsWith('SQLITE_') ||
    (typeof e?.syscall === 'string' && FILE_CALLS.has(e.syscall))
  );
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** `(N MiB free of M MiB)` for the file system of `dir`, or nothing when it cannot be read. */
async function freeSpace(dir: string): Promise<string> {
  try {
    const s = await statfs(dir);
    return ` (${mib(s.bavail * s.bsize)} free of ${mib(s.blocks * s.bsize)})`;
  } catch {
    return '';
  }
}

/**
 * The 5xx ApiError for a storage failure `err` while storing `filename` (`size` bytes, when
 * known) in `artifactsDir`, with a reason a person can act on. Call it after removing what was
 * half written, so the free space it reports is what is really left.
 */
export async function storageFault(
  err: unknown,
  artifactsDir: string,
  filename: string,
  size?: number,
): Promise<ApiError> {
  const code = String((err as { code?: unknown })?.code ?? '');
  const cause = (err as Error)?.message ?? String(err);
  const what = `cannot store ${filename}${size === undefined ? '' : ` (${size} bytes)`} in ${artifactsDir}`;
  if (FULL.has(code)) {
    return new ApiError(
      507,
      ArtifactStorageErrorCode.Full,
      `the artifacts directory is full: ${what}: ${cause}${await freeSpace(artifactsDir)}`,
    );
  }
  if (UNWRITABLE.has(code)) {
    return new ApiError(
      500,
      ArtifactStorageErrorCode.Unwritable,
      `the artifacts directory is not writable: ${what}: ${cause}`,
    );
  }
  // The file was stored, its row in the database was not (a database locked for too long …).
  const where = code.startsWith('SQLITE_') ? 'the database failed' : 'the artifacts directory failed';
  return new ApiError(500, ArtifactStorageErrorCode.Storage, `${where}: ${what}: ${cause}`);
}

/**
 * Makes (if needed) and returns the directory of a compose's artifacts, `<artifactsDir>/<uuid>`,
 * the service's own (0700: a blueprint's users and keys are in its images). One level first: a
 * recursive mkdir reports a read-only or unwritable parent as ENOENT, which would hide why the
 * directory cannot be made.
 */
export async function composeArtifactsDir(artifactsDir: string, uuid: string): Promise<string> {
  const dir = join(artifactsDir, uuid);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return dir;
    if (code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode: 0o700 }); // the artifacts directory itself is missing
  }
  return dir;
}
