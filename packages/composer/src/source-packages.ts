/**
 * A blueprint's `[[source_packages]]`: each source pinned at plan time (the archive's through its
 * deb-src index), built by its sbuild pipelines in the same manifest, and installed into `os` by a
 * last org.osbuild.apt stage after the archive's packages, which takes the built .debs from the
 * `debs-<name>` trees and their runtime dependencies from pinned files.
 *
 * The dependencies are known before the build: for an archive source, the Depends and Pre-Depends
 * of the archive's binaries of the same version (its Packages index). Relations naming a binary of
 * the sources built here are left to the built trees; the rest is resolved by apt as one more layer
 * on top of the image's, so every file the install needs is pinned. A dependency the build brings
 * that the archive's binaries lacked fails the stage, which names it.
 */
import { debianSourceRepositories, type PackageRecord, type ResolvedSource } from '@debian-forge/apt';
import type { Blueprint } from '@debian-forge/blueprint';
import type { AptResolver } from './apt-resolver.ts';
import type { StageDesc } from './customizations.ts';
import type { Distro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { PipelineDesc } from './image-type.ts';
import { SBUILD_BUILD_PIPELINE, sbuildPipelineNames, sbuildPipelines } from './sbuild.ts';
import type { PackageResolver, Repository, ResolvedPackage } from './types.ts';

/** A package built from source and installed into the image, as the plan lists it. */
export interface BuiltPackage {
  name: string;
  /** Its Debian version, epoch included. */
  version: string;
  /** `amd64`, `all` … */
  arch: string;
  /** The source package it is built from. */
  source: { name: string; version: string };
}

/** A source package of a blueprint, pinned, with what of it goes into the image. */
export interface SourceBuild {
  source: ResolvedSource;
  /** Appended to its pipelines' names (`-hello`). */
  suffix: string;
  /** The binary packages installed into the image. */
  install: BuiltPackage[];
  /** Their runtime relations (Depends, Pre-Depends) that no package built here satisfies. */
  relations: string[];
}

export type SourceResolver = Pick<AptResolver, 'resolveSource' | 'sourceBinaries'>;

/** One clause per relation of a Depends-like field (`a (>= 1) | b`), empty ones dropped. */
function clauses(field: string): string[] {
  return field
    .split(',')
    .map((c) => c.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

/** The package names a relation clause names (`a (>= 1) | b:any` → a, b). */
function clauseNames(clause: string): string[] {
  return clause.split('|').map((alt) => alt.trim().split(/[\s(:[<]/)[0] as string);
}

/** The install list of an entry: the names given (each one the source builds), else every binary not -dbgsym. */
function chooseInstall(
  entry: { install?: string[] },
  source: ResolvedSource,
  built: PackageRecord[],
  debArch: string,
): PackageRecord[] {
  if (!entry.install) return built.filter((r) => !r.name.endsWith('-dbgsym'));
  const missing = entry.install.filter((n) => !built.some((r) => r.name === n));
  if (missing.length > 0) {
    throw new ComposerError(
      ComposerErrorCode.SourceInstall,
      `source package ${source.name} ${source.version} builds no ${missing.join(', ')} for ${debArch} (it builds: ${built.map((r) => r.name).join(', ') || 'nothing'})`,
    );
  }
  return built.filter((r) => entry.install?.includes(r.name));
}

/**
 * Pins every source package of the blueprint and what of it is installed. Archive sources come
 * from the deb-src entries of the distro's repositories of the host (`hostRepositories`).
 */
export async function resolveSourceBuilds(
  blueprint: Blueprint,
  ctx: {
    distro: Distro;
    debArch: string;
    repositories: Repository[];
    hostRepositories?: Repository[];
    resolver: SourceResolver;
  },
): Promise<SourceBuild[]> {
  const entries = blueprint.source_packages ?? [];
  if (entries.length === 0) return [];
  const srcRepositories = debianSourceRepositories(ctx.distro.suite, ctx.hostRepositories);
  const pinned: { source: ResolvedSource; install: PackageRecord[] }[] = [];
  for (const entry of entries) {
    if (entry.name === undefined) {
      throw new ComposerError(
        ComposerErrorCode.SourcePath,
        `source package at ${entry.path}: local source trees are not supported yet`,
      );
    }
    const source = await ctx.resolver.resolveSource(ctx.debArch, srcRepositories, {
      name: entry.name,
      ...(entry.version !== undefined ? { version: entry.version } : {}),
    });
    const built = await ctx.resolver.sourceBinaries(ctx.debArch, ctx.repositories, source);
    pinned.push({ source, install: chooseInstall(entry, source, built, ctx.debArch) });
  }
  // A relation on any binary built here is met by the built trees, not by the archive.
  const builtNames = new Set(pinned.flatMap((p) => p.source.binaries));
  const used = new Set<string>();
  return pinned.map(({ source, install }) => {
    let suffix = `-${source.name}`;
    for (let i = 2; used.has(suffix); i++) suffix = `-${source.name}-${i}`;
    used.add(suffix);
    const relations = install
      .flatMap((r) => [...clauses(r.preDepends), ...clauses(r.depends)])
      .filter((c) => !clauseNames(c).some((n) => builtNames.has(n)));
    return {
      source,
      suffix,
      install: install.map((r) => ({
        name: r.name,
        version: r.version,
        arch: r.architecture,
        source: { name: source.name, version: source.version },
      })),
      relations: [...new Set(relations)],
    };
  });
}

/** The sbuild pipelines of every source build, and the org.osbuild.curl items they fetch. */
export async function sourceBuildPipelines(
  builds: SourceBuild[],
  ctx: { distro: Distro; arch: string; repositories: Repository[]; sourceEpoch: number; build?: string },
  resolver: PackageResolver,
): Promise<{ pipelines: PipelineDesc[]; items: Record<string, string | { url: string; insecure: true }> }> {
  const pipelines: PipelineDesc[] = [];
  let items: Record<string, string | { url: string; insecure: true }> = {};
  for (const b of builds) {
    const made = await sbuildPipelines({ ...ctx, source: b.source, suffix: b.suffix }, resolver);
    pipelines.push(...made.pipelines);
    items = { ...items, ...made.items };
  }
  return { pipelines, items };
}

/**
 * The last package stage of `os`: the built packages from the `debs-*` trees, pinned to their
 * versions, with `dependencies` (the layer their relations resolved to) as its files input.
 */
export function installBuiltStage(builds: SourceBuild[], dependencies: ResolvedPackage[]): StageDesc {
  const inputs: Record<string, unknown> = {};
  if (dependencies.length > 0) {
    inputs.packages = {
      type: 'org.osbuild.files',
      origin: 'org.osbuild.source',
      references: dependencies.map((d) => `sha256:${d.sha256}`),
    };
  }
  for (const b of builds) {
    const debs = sbuildPipelineNames(b.suffix).debs;
    inputs[debs] = { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: [`name:${debs}`] };
  }
  return {
    type: 'org.osbuild.apt',
    inputs,
    options: { packages: builds.flatMap((b) => b.install.map((p) => `${p.name}=${p.version}`)) },
  };
}

/** The pipelines a compose keeps in the store for its source builds (so a rebuild runs no sbuild). */
export function sourceCheckpoints(builds: SourceBuild[]): string[] {
  if (builds.length === 0) return [];
  return [SBUILD_BUILD_PIPELINE, ...builds.flatMap((b) => Object.values(sbuildPipelineNames(b.suffix)))];
}
