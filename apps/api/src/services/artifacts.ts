/**
 * Writing a compose's artifact, and what happens when the service cannot store it.
 *
 * `writeArtifact` streams the bytes (never buffered) to a hidden temporary file
 * `<artifactsDir>/<uuid>/.<random>.part` while their sha256 is computed, checks them against the
 * sha256 (and size) the sender announced, and renames the file into place. The compose service
 * calls it for a worker's upload and a `?test=2` compose's fake image alike, and records the row.
 *
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
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { joinInside } from '@debian-forge/manifest';
import { ApiError, ArtifactErrorCode, ArtifactStorageErrorCode } from '../errors.ts';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);
/** Other errno codes that only the server's own files give (never a client's connection). */
const STORAGE = new Set(['EIO', 'EFBIG', 'EMFILE', 'ENFILE', 'ENOMEM', 'ESTALE', 'EUCLEAN']);
/** System calls on files: an error of one of them is the server's, whatever its code. */
const FILE_CALLS = new Set(['open', 'write', 'close', 'fsync', 'mkdir', 'rename', 'unlink', 'rmdir']);

/** Whether `err` is a failure of the server's storage (rather than, say, a client hanging up). */
function isStorageError(err: unknown): boolean {
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
    return ApiError.of(
      ArtifactStorageErrorCode.Full,
      `the artifacts directory is full: ${what}: ${cause}${await freeSpace(artifactsDir)}`,
    );
  }
  if (UNWRITABLE.has(code)) {
    return ApiError.of(
      ArtifactStorageErrorCode.Unwritable,
      `the artifacts directory is not writable: ${what}: ${cause}`,
    );
  }
  // The file was stored, its row in the database was not (a database locked for too long …).
  const where = code.startsWith('SQLITE_') ? 'the database failed' : 'the artifacts directory failed';
  return ApiError.of(ArtifactStorageErrorCode.Storage, `${where}: ${what}: ${cause}`);
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

/** An artifact to store: its bytes and what the sender says they are. */
export interface ArtifactUpload {
  /** One portable file name (the caller has checked it with the name checker). */
  filename: string;
  /** The sha256 the bytes must have: 64 lower-case hex digits. */
  sha256: string;
  /** The number of bytes announced, when it was. */
  size?: number;
  /** The bytes. Read to the end or destroyed, whatever happens. */
  body: Readable;
}

/**
 * A failure of the server's storage while writing an artifact (`cause`): `written` are the files
 * that may have been made, for the caller to remove before it fails the compose.
 */
export class ArtifactStorageFailure extends Error {
  override readonly name = 'ArtifactStorageFailure';
  constructor(
    override readonly cause: unknown,
    readonly written: string[],
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * Writes `upload` to `<artifactsDir>/<uuid>/<filename>` (0600, in a 0700 directory). The sender's
 * faults — a body broken off, a size or sha256 that does not match — are 400 ApiErrors after the
 * temporary file is removed; the server's are ArtifactStorageFailures. A file name whose path
 * leads out of the directory (through a link) throws the name checker's error.
 */
export async function writeArtifact(
  artifactsDir: string,
  uuid: string,
  upload: ArtifactUpload,
): Promise<{ path: string; size: number; sha256: string }> {
  const dir = join(artifactsDir, uuid);
  // Its own name, which no portable file name can be (they start with a letter or digit).
  const part = join(dir, `.${randomUUID()}.part`);
  const { body } = upload;
  try {
    await composeArtifactsDir(artifactsDir, uuid);
  } catch (err) {
    body.destroy();
    throw new ArtifactStorageFailure(err, [part]);
  }
  let final: string;
  try {
    // No link in the compose's directory may lead the rename out of it.
    final = joinInside(dir, upload.filename, { what: 'file name' });
  } catch (err) {
    body.destroy();
    throw err;
  }
  const hash = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, next) {
      hash.update(chunk);
      size += chunk.length;
      next(null, chunk);
    },
  });
  try {
    await pipeline(body, count, createWriteStream(part, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    if (isStorageError(err)) throw new ArtifactStorageFailure(err, [part]);
    await rm(part, { force: true }).catch(() => {});
    throw ApiError.of(ArtifactErrorCode.BadUpload, `upload broken off: ${(err as Error).message}`);
  }
  const sha256 = hash.digest('hex');
  if (upload.size !== undefined && size !== upload.size) {
    await rm(part, { force: true });
    throw ApiError.of(ArtifactErrorCode.Size, `got ${size} bytes, Content-Length said ${upload.size}`);
  }
  if (sha256 !== upload.sha256) {
    await rm(part, { force: true });
    throw ApiError.of(ArtifactErrorCode.Checksum, `the body's sha256 is ${sha256}, not ${upload.sha256}`, {
      expected: upload.sha256,
      actual: sha256,
    });
  }
  try {
    await rename(part, final);
  } catch (err) {
    throw new ArtifactStorageFailure(err, [part, final]);
  }
  return { path: final, size, sha256 };
}
