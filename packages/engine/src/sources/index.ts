/**
 * Sources: everything a manifest's `sources` section names is fetched into
 * `<sourcesDir>/<content type>/<checksum>` before any pipeline runs (OSBuild's `osbuild/sources.py`
 * and `sources/org.osbuild.*`). Each source type is one file here, named after the type, holding its
 * schema and its code (other types run as a libdir's host module, external.ts). A file already there is not fetched again (`cached: true`); a new
 * file is written under a temporary name in the same directory and renamed only once its checksum
 * matched, so a crash never leaves a bad file under a good name.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Source } from '@debian-forge/manifest';
import type { HostModules } from '../host-modules/index.ts';
import {
  CHECKSUM,
  type ItemContext,
  removeStaleTemporaries,
  type SourceEvent,
  type SourceItemResult,
  type SourceModule,
} from './common.ts';
import { fetchExternal } from './external.ts';
import curl from './org.osbuild.curl.ts';
import inline from './org.osbuild.inline.ts';
import ostree from './org.osbuild.ostree.ts';

export type { SourceEvent, SourceItemResult } from './common.ts';
export { quoteUrl } from './org.osbuild.curl.ts';

export interface SourceResult {
  type: string;
  success: boolean;
  items: SourceItemResult[];
  /** Set when the whole source failed (an unknown type). */
  error?: string;
}

export interface FetchSourcesOptions {
  /** Items fetched at the same time, per source (default 4). */
  parallel?: number;
  /** Attempts per item (default 3). */
  retries?: number;
  /** Delay before the second attempt, doubling after (default 500 ms). */
  backoffMs?: number;
  onEvent?: (e: SourceEvent) => void;
  /** Source types of the libdirs, for a type the engine has no module for; none: only the engine's. */
  hostModules?: HostModules;
  /** Where a libdir's source module's output goes. */
  log?: (line: string) => void;
}

/** The source types this engine fetches, by OSBuild name. */
export const SOURCE_TYPES: ReadonlyMap<string, SourceModule> = new Map(
  [curl, inline, ostree].map((m) => [m.type, m]),
);

/** Fetches every item of every source; never throws for a failed item (see `success` and `error`). */
export async function fetchSources(
  sources: Source[],
  sourcesDir: string,
  opts: FetchSourcesOptions = {},
): Promise<SourceResult[]> {
  const results: SourceResult[] = [];
  for (const source of sources) {
    results.push(await fetchSource(source, sourcesDir, opts));
  }
  return results;
}

async function fetchSource(
  source: Source,
  sourcesDir: string,
  opts: FetchSourcesOptions,
): Promise<SourceResult> {
  const entries = Object.entries(source.items ?? {});
  const emit = (item: SourceItemResult) => opts.onEvent?.({ type: source.type, ...item });
  const fetcher = SOURCE_TYPES.get(source.type);
  const external = fetcher ? undefined : opts.hostModules?.find('Source', source.type);
  if (external && opts.hostModules) {
    const modules = opts.hostModules;
    const items = await fetchExternal(source, { ...external, modules }, sourcesDir, opts.log ?? (() => {}));
    for (const item of items) emit(item);
    return { type: source.type, success: items.every((i) => i.error === undefined), items };
  }
  if (!fetcher) {
    const error = `unknown source type ${source.type} (supported: ${[...SOURCE_TYPES.keys()].join(', ')})`;
    const items = entries.map(([checksum]) => ({ checksum, cached: false, error }));
    for (const item of items) emit(item);
    return { type: source.type, success: false, items, error };
  }
  const dir = join(sourcesDir, fetcher.contentType);
  mkdirSync(dir, { recursive: true });
  removeStaleTemporaries(dir);
  const key = fetcher.key ?? CHECKSUM;
  const has = fetcher.has ?? (async (d: string, checksum: string) => existsSync(join(d, checksum)));
  if (fetcher.prepare && entries.length > 0) {
    try {
      await fetcher.prepare(dir);
    } catch (e) {
      const error = `cannot set up ${dir}: ${e instanceof Error ? e.message : String(e)}`;
      const items = entries.map(([checksum]) => ({ checksum, cached: false, error }));
      for (const item of items) emit(item);
      return { type: source.type, success: false, items, error };
    }
  }
  const ctx: ItemContext = {
    dir,
    attempts: Math.max(1, opts.retries ?? 3),
    backoffMs: opts.backoffMs ?? 500,
  };

  const parallel = Math.max(
    1,
    Math.min(opts.parallel ?? 4, fetcher.parallel ?? Infinity, entries.length || 1),
  );
  // Items the batch stored: fetched in this run, not cached.
  let batched = new Set<string>();
  if (fetcher.fetchBatch) {
    const missing: [string, unknown][] = [];
    for (const [checksum, desc] of entries) {
      if (key.test(checksum) && !(await has(dir, checksum))) missing.push([checksum, desc]);
    }
    try {
      batched = await fetcher.fetchBatch(missing, ctx, parallel);
    } catch {
      // what the batch did not store is fetched one by one below, which reports the error
    }
  }

  const items: SourceItemResult[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const index = next++;
      const [checksum, desc] = entries[index] as [string, unknown];
      let item: SourceItemResult;
      if (!key.test(checksum)) {
        item = { checksum, cached: false, error: `invalid checksum ${JSON.stringify(checksum)}` };
      } else if (batched.has(checksum)) {
        item = { checksum, cached: false };
      } else if (await has(dir, checksum)) {
        item = { checksum, cached: true };
      } else {
        let error: string | undefined;
        try {
          error = await fetcher.fetchOne(checksum, desc, ctx);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        item = error === undefined ? { checksum, cached: false } : { checksum, cached: false, error };
      }
      items[index] = item;
      emit(item);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { type: source.type, success: items.every((i) => i.error === undefined), items };
}
