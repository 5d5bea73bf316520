/**
 * The package resolver backed by apt (`@debian-forge/apt`): an isolated apt root per repository
 * set and architecture under the state directory, refreshed when stale, resolving each layer with
 * the layers before it pinned. Also the default source epoch of a compose: the newest `Date:` of
 * the repositories' signed release files, so the same package snapshot gives the same image.
 * Source packages are pinned from a deb-src root the same way, and the archive's binaries of a
 * source version read from the Packages index of the image's root.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AptRoot,
  depsolveLayers,
  loadIndex,
  openRoot,
  type PackageRecord,
  type Repository,
  type ResolvedSource,
  resolveSource,
  type SourceRequest,
} from '@debian-forge/apt';
import type { LayerRequest, PackageResolver, ResolvedPackage } from './types.ts';

export interface AptResolver extends PackageResolver {
  /** Seconds since the epoch of the newest release file among the repositories (after an update). */
  releaseEpoch(arch: string, repositories: Repository[]): Promise<number>;
  /** A source package pinned from deb-src `repositories` (its .dsc and files). */
  resolveSource(arch: string, repositories: Repository[], request: SourceRequest): Promise<ResolvedSource>;
  /**
   * The binary packages of `source` at its version in `repositories`' Packages index for `arch`
   * (and `all`): what a build of it makes for that architecture, with their relations.
   */
  sourceBinaries(
    arch: string,
    repositories: Repository[],
    source: Pick<ResolvedSource, 'name' | 'version' | 'binaries'>,
  ): Promise<PackageRecord[]>;
}

/** A record's source name and version: its Source field (`name` or `name (version)`), else its own. */
function sourceOf(r: PackageRecord): { name: string; version: string } {
  const m = /^(\S+)(?:\s+\((\S+)\))?$/.exec(r.source.trim());
  return { name: m?.[1] ?? r.name, version: m?.[2] ?? r.version };
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
    async resolveSource(arch, repositories, request) {
      return resolveSource(await rootFor(arch, repositories), { ...request, update: false });
    },
    async sourceBinaries(arch, repositories, source) {
      const index = await loadIndex(await rootFor(arch, repositories), { update: false });
      const found = new Map<string, PackageRecord>();
      for (const name of source.binaries) {
        for (const r of index.byName.get(name) ?? []) {
          const from = sourceOf(r);
          const built = from.name === source.name && from.version === source.version;
          if (built && (r.architecture === arch || r.architecture === 'all') && !found.has(name)) {
            found.set(name, r);
          }
        }
      }
      return [...found.values()];
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
