/**
 * The package catalogue behind Weldr's projects/*, modules/* and blueprints depsolve/freeze: the
 * Debian archive of a distro (the host's mirror, from its apt sources) plus the user's sources, read
 * through an isolated apt root per repository set and architecture under `<stateDir>`. Roots are
 * opened on first use and kept; their lists are refreshed when stale (apt's rule, one hour) and the
 * parsed index is cached by `@debian-forge/apt` per update.
 */
import { readFileSync } from 'node:fs';
import {
  type AptRoot,
  debianRepositories,
  depsolve,
  infoMany,
  openRoot,
  type PackageInfo,
  type Repository,
  type ResolvedPackage,
  readHostSources,
  rootKey,
  type SearchResult,
  search,
} from '@debian-forge/apt';
import { DEFAULT_DISTRO, DISTROS, type Distro, getDistro } from '@debian-forge/composer';
import type { Source, Store } from '@debian-forge/store';
import { type CatalogSource, sourceRepository, sourcesFor, storedSource, systemSources } from './sources.ts';

export interface PackageTarget {
  distro: Distro;
  /** Composer's architecture name (x86_64). */
  arch: string;
}

export interface PackageServiceOptions {
  /** Apt roots live in `<stateDir>/apt`. */
  stateDir: string;
  store: Store;
  /** The host's apt sources (default: read from /etc/apt). */
  hostSources?: () => Repository[];
  /** The host's distro and architecture, the defaults of every route (default: read from the host). */
  hostDistro?: string;
  hostArch?: string;
  /** Hears what the service wants an operator to know (a stored source it leaves out). */
  warn?: (message: string) => void;
}

export interface PackageService {
  readonly hostDistro: string;
  readonly hostArch: string;
  /** Distro names with the architecture, sorted. */
  validDistros(arch: string): string[];
  /** The distro, when it exists and builds `arch`. */
  distro(name: string, arch: string): Distro | undefined;
  /** The system sources (the host distro's Debian repositories) and the store's system rows. */
  systemSources(): CatalogSource[];
  /** Every repository packages of `distro` come from: Debian's, the store's sources for that distro, then `extra`. */
  repositories(distro: Distro, extra?: Repository[]): Repository[];
  /** Newest version of each name matching the globs (all names without globs), paged. */
  search(
    target: PackageTarget,
    names: string[] | undefined,
    page: { offset: number; limit: number },
  ): Promise<SearchResult>;
  /** Full records of these names and globs; unknown names are left out. */
  info(target: PackageTarget, names: string[]): Promise<PackageInfo[]>;
  /** The names in the archive matching a glob. */
  expand(target: PackageTarget, glob: string): Promise<string[]>;
  /** Resolves apt package requests (`name`, `name=1.2-3`, `name (>= 1.2)`) to the .debs a fresh system needs. */
  depsolve(target: PackageTarget, requests: string[], extra?: Repository[]): Promise<ResolvedPackage[]>;
}

const GLOB = /[*?[]/;

/** "debian-12" when the host is Debian 12 and that distro is known; else the composer's default. */
export function hostDistroName(osRelease = '/etc/os-release'): string {
  try {
    const text = readFileSync(osRelease, 'utf8');
    const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    const name = `${field('ID')}-${field('VERSION_ID')}`;
    return getDistro(name) ? name : DEFAULT_DISTRO;
  } catch {
    return DEFAULT_DISTRO;
  }
}

/** Node's architecture in composer's words (x86_64, aarch64, …). */
export function hostArchName(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x' };
  return names[arch] ?? arch;
}

export function createPackageService(options: PackageServiceOptions): PackageService {
  const host = options.hostSources ?? readHostSources;
  const hostDistro = options.hostDistro ?? hostDistroName();
  const hostArch = options.hostArch ?? hostArchName();
  const roots = new Map<string, Promise<AptRoot>>();
  // Each left-out source once per version of it, not at every package query.
  const reported = new Set<string>();
  const leftOut = (s: Source, problem: string) => {
    const key = `${s.name}\u0000${s.updatedAt}`;
    if (reported.has(key)) return;
    reported.add(key);
    options.warn?.(
      `source ${JSON.stringify(s.name)} is left out of depsolves and package queries: ${problem}`,
    );
  };

  const service: PackageService = {
    hostDistro,
    hostArch,
    validDistros(arch) {
      return DISTROS.filter((d) => d.arches[arch] !== undefined)
        .map((d) => d.name)
        .sort();
    },
    distro(name, arch) {
      const d = getDistro(name);
      return d?.arches[arch] !== undefined ? d : undefined;
    },
    systemSources() {
      const distro = getDistro(hostDistro);
      const fromHost = distro ? systemSources(distro, host) : [];
      const stored = options.store.sources
        .list()
        .filter((s) => s.system)
        .map(storedSource);
      return [...fromHost, ...stored.filter((s) => !fromHost.some((h) => h.id === s.id))];
    },
    repositories(distro, extra = []) {
      const user = sourcesFor(options.store.sources.list(), distro, leftOut).map((s) =>
        sourceRepository(storedSource(s), distro),
      );
      return [...debianRepositories(distro.suite, host()), ...user, ...extra];
    },
    async search(target, names, page) {
      return search(await rootFor(target), { ...(names ? { names } : {}), ...page });
    },
    async info(target, names) {
      const root = await rootFor(target);
      const exact = names.filter((n) => !GLOB.test(n));
      const globs = names.filter((n) => GLOB.test(n));
      let all = exact;
      if (globs.length > 0) {
        const found = await search(root, { names: globs, limit: Number.MAX_SAFE_INTEGER });
        all = [...new Set([...exact, ...found.packages.map((p) => p.name)])].sort();
      }
      return infoMany(root, all);
    },
    async expand(target, glob) {
      const found = await search(await rootFor(target), { names: glob, limit: Number.MAX_SAFE_INTEGER });
      return found.packages.map((p) => p.name);
    },
    async depsolve(target, requests, extra = []) {
      return depsolve(await rootFor(target, extra), { packages: requests });
    },
  };

  function rootFor(target: PackageTarget, extra: Repository[] = []): Promise<AptRoot> {
    const debArch = target.distro.arches[target.arch] ?? target.arch;
    const repositories = service.repositories(target.distro, extra);
    const key = rootKey(repositories, debArch);
    let root = roots.get(key);
    if (!root) {
      root = openRoot({ stateDir: options.stateDir, repositories, arch: debArch });
      root.catch(() => roots.delete(key));
      roots.set(key, root);
    }
    return root;
  }

  return service;
}
