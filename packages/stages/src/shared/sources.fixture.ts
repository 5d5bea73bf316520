/**
 * For the tests of org.osbuild.debian.source: a real source package of the Debian mirror the host's
 * apt sources name, resolved at plan time as the composer resolves it (@debian-forge/apt, deb-src of
 * the same mirror, in an apt root kept beside the `.deb` cache) and downloaded once into that cache,
 * each file checked against the SHA256 of the signed Sources index.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AptError,
  AptErrorCode,
  debianSourceRepositories,
  openRoot,
  type ResolvedSource,
  resolveSource,
} from '@debian-forge/apt';
import { cachedDownload, cacheRoot, DebsUnavailable } from './debs.fixture.ts';

export interface CachedSourceFile {
  filename: string;
  sha256: string;
  size: number;
  /** Where the verified file lies in the cache. */
  path: string;
}

export interface CachedSource {
  resolved: ResolvedSource;
  dsc: CachedSourceFile;
  /** The files the `.dsc` lists. */
  files: CachedSourceFile[];
}

/** The source package `name` of `suite` with its files; DebsUnavailable when the mirror cannot be had. */
export async function sourcePackage(name: string, suite: string): Promise<CachedSource> {
  let resolved: ResolvedSource;
  try {
    const root = await openRoot({
      stateDir: join(cacheRoot(), 'state'),
      repositories: debianSourceRepositories(suite),
    });
    resolved = await resolveSource(root, { name });
  } catch (err) {
    if (err instanceof AptError && (err.code === AptErrorCode.Update || err.code === AptErrorCode.Sources)) {
      throw new DebsUnavailable(`the source package ${name} cannot be resolved here: ${err.message}`);
    }
    throw err;
  }
  const dir = join(cacheRoot(), suite, 'sources');
  mkdirSync(dir, { recursive: true });
  const cached = (f: ResolvedSource['dsc']): CachedSourceFile => ({
    filename: f.filename,
    sha256: f.sha256,
    size: f.size,
    path: cachedDownload(f.url, join(dir, f.filename), f),
  });
  return { resolved, dsc: cached(resolved.dsc), files: resolved.files.map(cached) };
}
