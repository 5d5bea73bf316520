/**
 * Package layers as stages: the first (minbase) bootstrapped by org.osbuild.debootstrap, each later
 * one installed by org.osbuild.apt, and the curl items that fetch their files. Shared by the image's
 * `os` pipeline, its build root and the build environments of source packages.
 */
import { insecureHosts, onInsecureHost } from '@debian-forge/apt';
import type { StageDesc } from './customizations.ts';
import type { LayerRequest, Repository, ResolvedPackage } from './types.ts';

/** org.osbuild.curl items by reference: a URL, or OSBuild's `insecure` item for a host without TLS checks. */
export type CurlItems = Record<string, string | { url: string; insecure: true }>;

/**
 * The org.osbuild.curl items of files from `repositories`: fetched the way apt fetched them, with
 * curl's `insecure` (OSBuild's item option) on a host whose TLS checks a repository turned off.
 */
export function curlItems(files: { url: string; sha256: string }[], repositories: Repository[]): CurlItems {
  const hosts = insecureHosts(repositories);
  const items: CurlItems = {};
  for (const f of files) {
    items[`sha256:${f.sha256}`] = onInsecureHost(f.url, hosts) ? { url: f.url, insecure: true } : f.url;
  }
  return items;
}

/**
 * The stages that install resolved layers: the first bootstraps its (minbase) system, each later
 * one installs with apt the names its layer asks for, pulling the rest of the layer in.
 */
export function layerStages(
  resolved: ResolvedPackage[][],
  layers: LayerRequest[],
  suite: string,
  debArch: string,
): StageDesc[] {
  const stages: StageDesc[] = [];
  resolved.forEach((debs, i) => {
    if (debs.length === 0) return;
    const refs = debs.map((d) => `sha256:${d.sha256}`);
    const inputs = {
      packages: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: refs },
    };
    const names = layers[i]?.packages.map((p) => p.split(/[ =(]/)[0] as string) ?? [];
    if (i === 0) {
      stages.push({
        type: 'org.osbuild.debootstrap',
        inputs,
        options: { suite, variant: 'custom', arch: debArch, 'merged-usr': true },
      });
    } else {
      const wanted = debs.filter((d) => names.includes(d.name)).map((d) => d.name);
      stages.push({
        type: 'org.osbuild.apt',
        inputs,
        options: { packages: wanted.length > 0 ? wanted : debs.map((d) => d.name) },
      });
    }
  });
  return stages;
}
