/**
 * A source type of a libdir, run as OSBuild's source services run (`osbuild/sources.py`):
 * `download` with the source's `items` and `options`, `cache` (STORE/sources, under which the
 * module keeps its content type's directory), `output: null` and `checksums: []`. OSBuild's
 * modules answer a source result, `{success, results: [{success, metadata: {checksum, cached},
 * error}]}`, which gives each item's outcome; a module that answers anything else (as older
 * versions did) has fetched every item, and one that raises has fetched none (its exception is
 * each item's error). The module is stopped once it has answered.
 */
import type { Source } from '@debian-forge/manifest';
import { type FoundModule, type HostModules, startAndCall } from '../host-modules/index.ts';
import type { SourceItemResult } from './common.ts';

interface ItemReply {
  success?: unknown;
  metadata?: { checksum?: unknown; cached?: unknown };
  error?: unknown;
}

export async function fetchExternal(
  source: Source,
  module: FoundModule & { modules: HostModules },
  sourcesDir: string,
  log: (line: string) => void,
): Promise<SourceItemResult[]> {
  const checksums = Object.keys(source.items ?? {});
  let reply: unknown;
  try {
    const started = await startAndCall(
      module.modules,
      module,
      {
        id: `source/${source.type}`,
        method: 'download',
        args: {
          items: source.items,
          options: source.options,
          cache: sourcesDir,
          output: null,
          checksums: [],
        },
      },
      log,
    );
    reply = started.reply;
    await started.service.stop();
  } catch (err) {
    const error = (err as Error).message;
    return checksums.map((checksum) => ({ checksum, cached: false, error }));
  }
  const results = (reply as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return checksums.map((checksum) => ({ checksum, cached: false }));
  const byChecksum = new Map<string, ItemReply>();
  for (const r of results as ItemReply[]) {
    if (typeof r?.metadata?.checksum === 'string') byChecksum.set(r.metadata.checksum, r);
  }
  return checksums.map((checksum) => {
    const r = byChecksum.get(checksum);
    if (!r) return { checksum, cached: false, error: `${module.exe} gave no result for ${checksum}` };
    const cached = r.metadata?.cached === true;
    if (r.success === false)
      return { checksum, cached, error: typeof r.error === 'string' && r.error ? r.error : 'failed' };
    return { checksum, cached };
  });
}
