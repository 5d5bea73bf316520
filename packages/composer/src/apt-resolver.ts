/**
 * The package resolver backed by apt (`@debian-forge/apt`): an isolated apt root per repository
 * set and architecture under the state directory, refreshed when stale, resolving each layer with
 * the layers before it pinned. Also the default source epoch of a compose: the newest `Date:` of
 * the repositories' signed release files, so the same package snapshot gives the same image.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AptRoot, depsolveLayers, openRoot, type Repository } from '@debian-forge/apt';
import type { LayerRequest, PackageResolver, ResolvedPackage } from './types.ts';

export interface AptResolver extends PackageResolver {
  /** Seconds since the epoch of the newest release file among the repositories (after an update). */
  releaseEpoch(arch: string, repositories: Repository[]): Promise<number>;
}

export function aptResolver(stateDir: string): AptResolver {
  const roots = new Map<string, Promise<AptRoot>>();
  const rootFor = (arch: string, repositories: Repository[]) => {
    const key = JSON.stringify([arch, repositories]);
    let root = roots.get(key);
    if (!root) {
      root = openRoot({ stateDir, repositories, arch }).then(async (r) => {
        await r.update();
        return r;
      });
      roots.set(key, root);
    }
    return root;
  };
  return {
    async resolveLayers(_suite, arch, repositories, layers: LayerRequest[]): Promise<ResolvedPackage[][]> {
      const root = await rootFor(arch, repositories);
      const base = layers[0]?.base;
      return depsolveLayers(
        root,
        layers.map(({ base: _, ...layer }) => layer),
        { base: base ?? 'none', update: false },
      );
    },
    async releaseEpoch(arch, repositories) {
      const root = await rootFor(arch, repositories);
      const lists = join(root.dir, 'var/lib/apt/lists');
      let newest = 0;
      for (const name of readdirSync(lists)) {
        if (!name.endsWith('InRelease') && !name.endsWith('_Release')) continue;
        const date = /^Date:\s*(.+)$/m.exec(readFileSync(join(lists, name), 'utf8'))?.[1];
        const t = date ? Date.parse(date) : Number.NaN;
        if (!Number.isNaN(t)) newest = Math.max(newest, Math.floor(t / 1000));
      }
      return newest;
    },
  };
}
