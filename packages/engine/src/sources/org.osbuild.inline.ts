/**
 * `org.osbuild.inline`: data carried in the manifest itself, as OSBuild's
 * `sources/org.osbuild.inline`: `{encoding: "base64" | "lzma+base64", data}`. The checksum is over
 * the decoded bytes. `lzma+base64` is what Python's `lzma.decompress` accepts by default: an .xz
 * stream or a legacy .lzma ("alone") stream; `xz --format=auto` reads both.
 */
import { writeFileSync } from 'node:fs';
import { run } from '../exec.ts';
import { options, source } from '../module-schema.ts';
import { type FetchOne, removeQuietly, type SourceModule, temporaryName, verifyAndCommit } from './common.ts';

const INLINE_CONTENT_TYPE = 'org.osbuild.files';

const fetchInline: FetchOne = async (checksum, desc, ctx) => {
  if (!desc || typeof desc !== 'object') return 'an item must be an object with encoding and data';
  const { encoding, data } = desc as { encoding?: unknown; data?: unknown };
  if (typeof data !== 'string') return 'the item has no data';
  if (encoding !== 'base64' && encoding !== 'lzma+base64') return `unknown encoding ${String(encoding)}`;
  const tmp = temporaryName(ctx.dir, checksum);
  const compressed = `${tmp}.xz`;
  try {
    const bytes = Buffer.from(data, 'base64');
    if (encoding === 'base64') {
      writeFileSync(tmp, bytes);
    } else {
      writeFileSync(compressed, bytes);
      try {
        // Decompresses file.xz into file (and removes file.xz).
        await run(['xz', '--decompress', '--format=auto', '--quiet', compressed]);
      } catch (e) {
        return `cannot decompress the lzma data of ${checksum}: ${(e as Error).message}`;
      }
    }
    return await verifyAndCommit(tmp, ctx.dir, checksum, `the inline data of ${checksum}`);
  } finally {
    removeQuietly(tmp);
    removeQuietly(compressed);
  }
};

export default {
  type: 'org.osbuild.inline',
  schema: source(
    options({ encoding: { enum: ['base64', 'lzma+base64'] }, data: { type: 'string' } }, [
      'encoding',
      'data',
    ]),
  ),
  contentType: INLINE_CONTENT_TYPE,
  fetchOne: fetchInline,
} satisfies SourceModule;
