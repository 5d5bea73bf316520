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
 * that the archive's binaries lacked fails the stage, which names it. For a local source (`path`),
 * its own debian/control's (local-binaries.ts); its files travel in the manifest as inline items.
 */
import { mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { debianSourceRepositories, type ResolvedSource } from '@debian-forge/apt';
import type { Blueprint } from '@debian-forge/blueprint';
import type { AptResolver } from './apt-resolver.ts';
import type { InlineItems, StageDesc } from './customizations.ts';
import type { Distro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { PipelineDesc } from './image-type.ts';
import type { CurlItems } from './layer-stages.ts';
import { type BinaryRecord, localBinaries } from './local-binaries.ts';
import { localSource } from './local-source.ts';
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
  /** A local source's files (org.osbuild.inline items). */
  inline?: InlineItems;
}

export type SourceResolver = Pick<AptResolver, 'resolveSource' | 'sourceBinaries'>;

/**
 * One clause per relation of a Depends-like field (`a (>= 1) | b`), empty ones dropped, and those
 * holding a substitution variable of a local debian/control (`${shlibs:Depends}`), which only the
 * build fills.
 */
function clauses(field: string): string[] {
  return field
    .split(',')
    .map((c) => c.replace(/\s+/g, ' ').trim())
    .filter((c) => c && !c.includes('${'));
}

/** The package names a relation clause names (`a (>= 1) | b:any` → a, b). */
function clauseNames(clause: string): string[] {
  return clause.split('|').map((alt) => alt.trim().split(/[\s(:[<]/)[0] as string);
}

/** The install list of an entry: the names given (each one the source builds), else every binary not -dbgsym. */
function chooseInstall(
  entry: { install?: string[] },
  source: ResolvedSource,
  built: BinaryRecord[],
  debArch: string,
): BinaryRecord[] {
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
 * Refuses a source path that does not lie inside one of `dirs` (canonical directories). The
 * blueprint's path is canonical (its schema), so the first test reads nothing outside them, and
 * the answer is the same whether the path exists or not; the second follows symbolic links inside
 * them. A path must be below a directory, not the directory itself, since a tree's orig tarballs
 * are read from its parent.
 */
function checkLocalPath(path: string, dirs: readonly string[]): void {
  const inside = (p: string) => dirs.some((d) => p.startsWith(d.endsWith('/') ? d : `${d}/`));
  const denied = () =>
    new ComposerError(
      ComposerErrorCode.LocalSourceDenied,
      dirs.length === 0
        ? `source package at ${path}: this service builds no source packages from paths (forge serve --source-dir)`
        : `source package at ${path}: not inside the directories this service reads sources from (${dirs.join(', ')})`,
    );
  if (!inside(path)) throw denied();
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return; // localSource names what is missing
  }
  if (!inside(real)) throw denied();
}

/**
 * Pins every source package of the blueprint and what of it is installed. Archive sources come
 * from the deb-src entries of the distro's repositories of the host (`hostRepositories`); local
 * ones are made in a directory of `workDir` (default the system's temporary directory) removed
 * before this returns, since their files are kept as inline items.
 */
export async function resolveSourceBuilds(
  blueprint: Blueprint,
  ctx: {
    distro: Distro;
    debArch: string;
    repositories: Repository[];
    hostRepositories?: Repository[];
    resolver: SourceResolver;
    workDir?: string;
    /** See PlanOptions.localSourceDirs. */
    localSourceDirs?: readonly string[];
  },
): Promise<SourceBuild[]> {
  const entries = blueprint.source_packages ?? [];
  if (entries.length === 0) return [];
  // Every path is checked before any is read, so a refused compose reads nothing.
  for (const entry of entries) {
    if (entry.path !== undefined && ctx.localSourceDirs) checkLocalPath(entry.path, ctx.localSourceDirs);
  }
  const srcRepositories = debianSourceRepositories(ctx.distro.suite, ctx.hostRepositories);
  const pinned: { source: ResolvedSource; install: BinaryRecord[]; inline?: InlineItems }[] = [];
  const work = mkdtempSync(join(ctx.workDir ?? tmpdir(), 'forge-sources-'));
  try {
    for (const entry of entries) {
      if (entry.path !== undefined) {
        const local = await localSource(entry.path, { workDir: work });
        const tree = statSync(resolve(entry.path)).isDirectory() ? resolve(entry.path) : undefined;
        const built = localBinaries(local, ctx.debArch, tree);
        const install = chooseInstall(entry, local.source, built, ctx.debArch);
        pinned.push({ source: local.source, install, inline: local.inline });
        continue;
      }
      const source = await ctx.resolver.resolveSource(ctx.debArch, srcRepositories, {
        name: entry.name as string,
        ...(entry.version !== undefined ? { version: entry.version } : {}),
      });
      const built = await ctx.resolver.sourceBinaries(ctx.debArch, ctx.repositories, source);
      pinned.push({ source, install: chooseInstall(entry, source, built, ctx.debArch) });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // A relation on any binary built here is met by the built trees, not by the archive.
  const builtNames = new Set(pinned.flatMap((p) => p.source.binaries));
  const used = new Set<string>();
  return pinned.map(({ source, install, inline }) => {
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
      ...(inline ? { inline } : {}),
    };
  });
}

/**
 * The sbuild pipelines of every source build, the org.osbuild.curl items they fetch, and the
 * org.osbuild.inline items of local sources.
 */
export async function sourceBuildPipelines(
  builds: SourceBuild[],
  ctx: { distro: Distro; arch: string; repositories: Repository[]; sourceEpoch: number; build?: string },
  resolver: PackageResolver,
): Promise<{
  pipelines: PipelineDesc[];
  items: Record<string, string | { url: string; insecure: true }>;
  inline: InlineItems;
}> {
  const pipelines: PipelineDesc[] = [];
  let items: CurlItems = {};
  let inline: InlineItems = {};
  for (const b of builds) {
    const made = await sbuildPipelines(
      { ...ctx, source: b.source, suffix: b.suffix, ...(b.inline ? { inline: b.inline } : {}) },
      resolver,
    );
    pipelines.push(...made.pipelines);
    items = { ...items, ...made.items };
    inline = { ...inline, ...made.inline };
  }
  return { pipelines, items, inline };
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
