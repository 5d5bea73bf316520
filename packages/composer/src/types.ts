/**
 * What manifest generation works with: resolved packages (exact files, pinned by SHA256), the
 * repositories they come from, and the request a compose makes.
 */

export type { Repository, ResolvedPackage } from '@debian-forge/apt';

/** One layer of packages to install: the names asked for (with optional Debian constraints). */
export interface LayerRequest {
  packages: string[];
  /** A base set resolved with the layer (only for the first): `minbase` = essential + required. */
  base?: 'essential' | 'minbase' | 'important' | 'standard';
  /** Debian relations (Build-Depends syntax) the layer must satisfy too: a build environment's. */
  relations?: string[];
  /** Relations the layer must not satisfy (Build-Conflicts). */
  conflicts?: string[];
  /** Build profiles active for the relations' `<…>` restrictions. */
  profiles?: string[];
}

/**
 * Resolves layers of packages cumulatively: the result for each layer holds only what that layer
 * adds to the layers before it, so a change in a later layer leaves earlier layers' files as they were.
 */
import type { Repository, ResolvedPackage } from '@debian-forge/apt';

export interface PackageResolver {
  resolveLayers(
    suite: string,
    arch: string,
    repositories: Repository[],
    layers: LayerRequest[],
  ): Promise<ResolvedPackage[][]>;
}
