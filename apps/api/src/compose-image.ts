/**
 * The image of a compose, as the Weldr and Cloud routes serve it: which artifact it is, its file
 * (checked to lie in the compose's own directory), and its download with HTTP Range requests.
 */
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { joinInside, ManifestError } from '@debian-forge/manifest';
import type { Artifact, Compose, Store } from '@debian-forge/store';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The image file of a finished compose (its first artifact), if any. */
export function imageOf(store: Store, compose: Compose): Artifact | undefined {
  return store.artifacts.list(compose.uuid)[0];
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` of a file of `size`; undefined for no (or a multi-) range. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'bad' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.includes(',') && header.startsWith('bytes=') ? undefined : 'bad';
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return 'bad';
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'bad';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return 'bad';
  }
  if (start >= size) return 'bad';
  return { start, end };
}

/** The image file of a compose is gone from disk. */
export class ImageMissingError extends Error {
  override readonly name = 'ImageMissingError';
}

/**
 * The file of a compose's image as its row stores it, checked before anything reads it: the path
 * must lie in the compose's own directory `<artifactsDir>/<uuid>/`, no symbolic link may lead out
 * of it, and it must be a regular file. A row that names another path, or a file replaced by a
 * link, serves nothing (ImageMissingError, with the reason): no stored row can serve a host file.
 */
export async function imageFile(
  artifactsDir: string,
  compose: Compose,
  image: Artifact,
): Promise<{ path: string; size: number }> {
  let path: string;
  try {
    const dir = joinInside(artifactsDir, compose.uuid, { what: 'compose' });
    path = joinInside(dir, relative(dir, resolve(image.path)), { what: 'image', relative: true });
  } catch (err) {
    if (err instanceof ManifestError) {
      throw new ImageMissingError(
        `the image of ${compose.uuid} is not in its artifacts directory: ${err.message}`,
      );
    }
    throw new ImageMissingError(`the image of ${compose.uuid} is missing`);
  }
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile()) throw new ImageMissingError(`the image of ${compose.uuid} is missing`);
  return { path, size: info.size };
}

/**
 * Streams a compose's image (checked by imageFile): Content-Disposition `attachment;
 * filename=UUID-<file>`, its MIME type, Content-Length, and one byte range when asked (206, or 416
 * with `Content-Range: bytes * /size`).
 */
export async function sendImage(
  request: FastifyRequest,
  reply: FastifyReply,
  artifactsDir: string,
  compose: Compose,
  image: Artifact,
) {
  const { path, size } = await imageFile(artifactsDir, compose, image);
  reply
    .header('content-disposition', `attachment; filename=${compose.uuid}-${image.filename}`)
    .header('content-type', image.mimeType)
    .header('accept-ranges', 'bytes');
  const range = parseRange(request.headers.range, size);
  if (range === 'bad') {
    return reply.code(416).header('content-range', `bytes */${size}`).header('content-length', 0).send();
  }
  if (range) {
    return reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', range.end - range.start + 1)
      .send(createReadStream(path, { start: range.start, end: range.end }));
  }
  return reply.header('content-length', size).send(createReadStream(path));
}
