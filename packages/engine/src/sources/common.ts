/**
 * What the source fetchers share: checksums, hashing, and the temporary-file-then-rename protocol
 * that keeps a file under its checksum name only once its content has been verified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '@debian-forge/host';

/** Checksums as OSBuild's source schemas accept them, anchored (the checksum is also a file name). */
export const CHECKSUM = /^(md5|sha1|sha256|sha384|sha512):([0-9a-f]{32,128})$/;

export interface SourceItemResult {
  checksum: string;
  cached: boolean;
  error?: string;
}

export interface SourceEvent {
  /** The source type, e.g. `org.osbuild.curl`. */
  type: string;
  checksum: string;
  cached: boolean;
  error?: string;
}

export interface ItemContext {
  /** The directory of the content type: `<sources>/org.osbuild.files`. */
  dir: string;
  /** Attempts per item (at least 1). */
  attempts: number;
  /** Delay before the second attempt; it doubles for each further one. */
  backoffMs: number;
}

/** Fetches one item into `dir/<checksum>`; resolves with an error text, or undefined on success. */
export type FetchOne = (checksum: string, desc: unknown, ctx: ItemContext) => Promise<string | undefined>;

/**
 * Fetches many items (checksum, description) at once, at most `parallel` at a time, into
 * `dir/<checksum>`; resolves with the checksums it stored. What it did not store is then fetched
 * one by one (so an item's error comes from FetchOne).
 */
export type FetchBatch = (
  items: [string, unknown][],
  ctx: ItemContext,
  parallel: number,
) => Promise<Set<string>>;

export function splitChecksum(checksum: string): { algorithm: string; digest: string } {
  const m = CHECKSUM.exec(checksum);
  if (!m) throw new Error(`invalid checksum ${checksum}`);
  return { algorithm: m[1] as string, digest: m[2] as string };
}

/** Hex digest of a file with the named algorithm. */
export function hashFile(path: string, algorithm: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash(algorithm);
    const stream = createReadStream(path);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', fail);
    stream.on('end', () => done(hash.digest('hex')));
  });
}

const TMP_PREFIX = '.forge-tmp-';

/** A fresh temporary name for `checksum` in `dir` (same file system, so the final rename is atomic). */
export function temporaryName(dir: string, checksum: string): string {
  return join(dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-${checksum}`);
}

/**
 * Verifies `tmp` against `checksum` and renames it to `dir/<checksum>`. On a mismatch the temporary
 * file is removed and the error names both sums.
 */
export async function verifyAndCommit(
  tmp: string,
  dir: string,
  checksum: string,
  origin: string,
): Promise<string | undefined> {
  const { algorithm, digest } = splitChecksum(checksum);
  let actual: string;
  try {
    actual = await hashFile(tmp, algorithm);
  } catch (e) {
    removeQuietly(tmp);
    return `cannot read what was fetched from ${origin}: ${(e as Error).message}`;
  }
  if (actual !== digest) {
    removeQuietly(tmp);
    return `checksum mismatch for ${origin}: expected ${checksum}, got ${algorithm}:${actual}`;
  }
  renameSync(tmp, join(dir, checksum));
  return undefined;
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

/** Removes temporary files left by fetchers that died (their pid no longer exists). */
export function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const pid = Number(name.slice(TMP_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (!pidAlive(pid)) removeQuietly(join(dir, name));
  }
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Tries `once` up to `attempts` times, waiting `backoffMs`, then twice that, … between tries. */
export async function withRetries(
  attempts: number,
  backoffMs: number,
  once: () => Promise<string | undefined>,
): Promise<string | undefined> {
  let error: string | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(backoffMs * 2 ** (i - 1));
    error = await once();
    if (error === undefined) return undefined;
  }
  return attempts > 1 ? `${error} (${attempts} attempts)` : error;
}

/** A source type: its OSBuild name, its `schema` (as OSBuild's `sources/<type>` declares it), and how it fetches. */
export interface SourceModule {
  type: string;
  schema: Record<string, unknown>;
  /** The directory of the source cache its items are stored in. */
  contentType: string;
  fetchOne: FetchOne;
  /** Fetches the missing items all at once before the rest are fetched one by one. */
  fetchBatch?: FetchBatch;
  /** Item keys it accepts (default: checksums). */
  key?: RegExp;
  /** Whether the cache holds the item already (default: a file named by the checksum). */
  has?(dir: string, checksum: string): Promise<boolean>;
  /** Sets up the content type's directory before the first item. */
  prepare?(dir: string): Promise<void>;
  /** Items fetched at the same time at most. */
  parallel?: number;
}
