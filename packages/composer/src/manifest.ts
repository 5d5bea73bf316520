/**
 * Blueprint + distro + image type → a complete OSBuild manifest, every package pinned by SHA256,
 * so any later build needs no network beyond fetching those exact files (and no stage needs any).
 *
 * The `os` pipeline installs packages in three layers, each resolved on top of the ones before:
 * the minbase system (org.osbuild.debootstrap), the image type's packages, then the blueprint's
 * (org.osbuild.apt). Adding a package to a blueprint changes only the last layer, so a warm store
 * rebuilds from there on. A blueprint's source packages are built by sbuild pipelines of the same
 * manifest and installed by one more apt stage, with their dependencies (source-packages.ts). Then apt is configured for the running system, the blueprint's
 * customizations applied, and the image type's boot configuration written.
 *
 * Every other pipeline names the `build` pipeline (build-root.ts): the tools the stages run, pinned
 * packages of the same distro installed the same way, unless the request asks for the host's.
 */
import { createHash } from 'node:crypto';
import { insecureHosts } from '@debian-forge/apt';
import type { Blueprint } from '@debian-forge/blueprint';
import type { ManifestV2 } from '@debian-forge/manifest';
import { ostreeRef as checkOstree } from './atomic.ts';
import { BUILD_PIPELINE, buildRootLayers } from './build-root.ts';
import {
  customizationPackages,
  customizationStages,
  type InlineItems,
  type StageDesc,
} from './customizations.ts';
import type { Distro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { ImageType, ImageTypeContext, OstreeOptions, PipelineDesc } from './image-type.ts';
import { type CurlItems, curlItems, layerStages } from './layer-stages.ts';
import { SBUILD_BUILD_PIPELINE, sbuildBuildRoot } from './sbuild.ts';
import { installBuiltStage, type SourceBuild, sourceBuildPipelines } from './source-packages.ts';
import type { LayerRequest, PackageResolver, Repository, ResolvedPackage } from './types.ts';

export interface ManifestRequest {
  blueprint: Blueprint;
  distro: Distro;
  imageType: ImageType;
  arch?: string;
  /** Image size in bytes; the image type's default when absent. */
  size?: number;
  /** Repositories packages come from (and the image's apt sources point to). */
  repositories: Repository[];
  /**
   * Repositories the build root's packages come from; default `repositories`. The planner gives
   * the distro's own: a blueprint's or a service's extra repository adds to the image, not to the
   * tools that build it (and a build root of the same tools is then shared by those composes).
   */
  buildRepositories?: Repository[];
  /** SOURCE_DATE_EPOCH of every pipeline: file times in the image are clamped to it. */
  sourceEpoch: number;
  /** Ref, parent commit and update URL, for the image types that make an OSTree commit. */
  ostree?: OstreeOptions;
  /**
   * Run the stages with the host's tools (no `build` pipeline, as a manifest that names none);
   * default false: a `build` pipeline of the distro's own packages.
   */
  hostBuildRoot?: boolean;
  /**
   * The blueprint's source packages, pinned (resolveSourceBuilds): built by sbuild pipelines of
   * this manifest and installed into `os` after the archive's packages.
   */
  sourceBuilds?: SourceBuild[];
}

export interface ManifestResult {
  manifest: ManifestV2;
  /**
   * The packages of each layer (0 base, 1 image type, 2 blueprint, 3 when there are source builds:
   * the built packages' runtime dependencies), each only what it adds.
   */
  layers: ResolvedPackage[][];
  /**
   * The packages of each layer of the build root (0 minbase, 1 the tools every build root has, 2
   * those of this manifest's stages), none with the host's build root: not in the image.
   */
  buildPackages: ResolvedPackage[][];
  /** The ref of the OSTree commit the image holds, for the types that make one. */
  ostreeRef?: string;
}

/**
 * The OSTree options given (none empty), refused (FORGE_ERR_COMPOSE_OSTREE) for an image type that
 * makes no commit.
 */
export function ostreeOptions(imageType: ImageType, given: OstreeOptions | undefined): OstreeOptions {
  const ostree: OstreeOptions = Object.fromEntries(
    Object.entries(given ?? {}).filter(([, v]) => v !== undefined && v !== ''),
  );
  const asked = Object.keys(ostree);
  if (!imageType.defaultOstreeRef && asked.length > 0) {
    throw new ComposerError(
      ComposerErrorCode.Ostree,
      `image type ${imageType.name} makes no OSTree commit: it takes no ${asked.join(', ')}`,
    );
  }
  return ostree;
}

/** A blueprint package as apt understands it: `name`, `name=version`, or `name (op version)`. */
export function packageSpec(p: { name: string; version?: string }): string {
  const v = (p.version ?? '').trim();
  if (v === '' || v === '*') return p.name;
  if (/^(<<|<=|=|>=|>>|<|>)/.test(v)) return `${p.name} (${v.replace(/^(<<|<=|=|>=|>>|<|>)\s*/, '$1 ')})`;
  return `${p.name}=${v}`;
}

export async function makeManifest(req: ManifestRequest, resolver: PackageResolver): Promise<ManifestResult> {
  const arch = req.arch ?? 'x86_64';
  const debArch = req.distro.arches[arch];
  if (!debArch)
    throw new ComposerError(ComposerErrorCode.Arch, `${req.distro.name} has no architecture ${arch}`);
  const c = req.blueprint.customizations;
  const ostree = ostreeOptions(req.imageType, req.ostree);
  // Checked before the packages are resolved: a bad ref should not wait for apt.
  const ostreeRef = req.imageType.defaultOstreeRef ? checkOstree(ostree, req.distro, arch) : undefined;
  const blueprintPackages = [...req.blueprint.packages, ...req.blueprint.modules].map(packageSpec);
  const layers: LayerRequest[] = [
    { packages: ['usr-is-merged'], base: 'minbase' },
    { packages: [...req.imageType.packages] },
    { packages: [...blueprintPackages, ...customizationPackages(c)] },
  ];
  const builds = req.sourceBuilds ?? [];
  const relations = builds.flatMap((b) => b.relations);
  if (relations.length > 0) {
    // apt-get satisfy, which resolves relations, would meet init-system-helpers' "usrmerge |
    // usr-is-merged" with usrmerge (and perl) though the base has usr-is-merged pinned.
    layers.push({ packages: [], relations: [...new Set(relations)], conflicts: ['usrmerge'] });
  }
  const resolved = await resolver.resolveLayers(req.distro.suite, debArch, req.repositories, layers);
  const size = req.size ?? req.imageType.defaultSize;
  const seed = createHash('sha256')
    .update(
      JSON.stringify([req.blueprint.name, req.blueprint.version, req.distro.name, req.imageType.name, arch]),
    )
    .digest('hex');
  const inline: InlineItems = {};
  const typeCtx: ImageTypeContext = {
    size,
    seed,
    kernelAppend: c?.kernel?.append ?? '',
    distro: req.distro,
    arch,
    ostree,
    inline,
  };
  const osStages: StageDesc[] = layerStages(resolved.slice(0, 3), layers, req.distro.suite, debArch);
  if (builds.length > 0) osStages.push(installBuiltStage(builds, resolved[3] ?? []));
  osStages.push(aptConfig(req.repositories));
  osStages.push(...customizationStages(c, inline));
  if (resolved.some((debs) => debs.some((d) => d.name === 'openssh-server'))) {
    // Keys made at build time would be shared by every machine and differ between builds.
    osStages.push({ type: 'org.osbuild.sshd.host-keys', options: { 'generate-on-boot': true } });
  }
  osStages.push(...req.imageType.osStages(typeCtx));
  osStages.push({ type: 'org.osbuild.machine-id', options: { 'first-boot': 'yes' } });
  osStages.push(...(req.imageType.osFinalStages?.(typeCtx) ?? []));

  // The environments come from the distro's own repositories, as the build root's packages do.
  const buildRepositories = req.buildRepositories ?? req.repositories;
  const sbuildCtx = {
    distro: req.distro,
    arch,
    repositories: buildRepositories,
    sourceEpoch: req.sourceEpoch,
  };
  // Source builds have a build root of their own (sbuildBuildRoot), so the image's tools do not
  // change their ids: a source built once serves every image type and `forge sbuild`.
  const sbuild = await sourceBuildPipelines(
    builds,
    { ...sbuildCtx, ...(req.hostBuildRoot ? {} : { build: SBUILD_BUILD_PIPELINE }) },
    resolver,
  );
  Object.assign(inline, sbuild.inline);
  let pipelines: PipelineDesc[] = [
    { name: 'os', runner: req.distro.runner, stages: osStages },
    ...req.imageType.pipelines(typeCtx),
  ];
  let buildPackages: ResolvedPackage[][] = [];
  const buildPipelines: PipelineDesc[] = [];
  let buildItems: CurlItems = {};
  if (!req.hostBuildRoot) {
    const siblings = req.imageType.siblingPipelines?.({ ...typeCtx, inline: {} }) ?? [];
    const buildLayers = buildRootLayers([...pipelines, ...siblings]);
    buildPackages = await resolver.resolveLayers(req.distro.suite, debArch, buildRepositories, buildLayers);
    buildPipelines.push({
      name: BUILD_PIPELINE,
      runner: req.distro.runner,
      stages: layerStages(buildPackages, buildLayers, req.distro.suite, debArch),
    });
    pipelines = pipelines.map((p) => ({ ...p, build: `name:${BUILD_PIPELINE}` }));
    if (sbuild.pipelines.length > 0) {
      const root = await sbuildBuildRoot(
        { ...sbuildCtx, name: SBUILD_BUILD_PIPELINE },
        sbuild.pipelines,
        resolver,
      );
      buildPipelines.push(root.pipeline);
      buildItems = root.items;
    }
  }
  pipelines = [...buildPipelines, ...sbuild.pipelines, ...pipelines].map((p) => ({
    ...p,
    'source-epoch': req.sourceEpoch,
  }));

  const curl: CurlItems = {
    ...buildItems,
    ...sbuild.items,
    ...curlItems(
      [...buildPackages.flat(), ...resolved.flat()],
      [...req.repositories, ...(req.buildRepositories ?? [])],
    ),
  };
  const sources: ManifestV2['sources'] = { 'org.osbuild.curl': { items: curl } };
  if (Object.keys(inline).length > 0) sources['org.osbuild.inline'] = { items: inline };

  const manifest: ManifestV2 = {
    version: '2',
    pipelines: pipelines.map(orderPipeline),
    sources,
    metadata: { generators: [{ name: 'debian-forge', version: '0.1.0' }] },
  };
  return { manifest, layers: resolved, buildPackages, ...(ostreeRef ? { ostreeRef } : {}) };
}

/** Keys in OSBuild's order, so a manifest reads the way osbuild-composer writes them. */
function orderPipeline(p: PipelineDesc): PipelineDesc {
  return {
    name: p.name,
    ...(p.build ? { build: p.build } : {}),
    ...(p.runner ? { runner: p.runner } : {}),
    ...(p['source-epoch'] !== undefined ? { 'source-epoch': p['source-epoch'] } : {}),
    stages: p.stages,
  };
}

/** A file stem the apt.config stage accepts, from a repository id (`debian.sources#1` → `debian.sources-1`). */
function sourceStem(id: string): string {
  const stem = id
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+/, '');
  return stem || 'repository';
}

/**
 * apt's sources in the image: the repositories the packages came from. A repository whose key is
 * an ASCII-armoured block gets it as a keyring file in /etc/apt/keyrings. The https hosts of
 * repositories with TLS checks turned off get them turned off in the image's apt too (apt.conf.d
 * `forge-tls`), so that the image updates from where it was built.
 */
function aptConfig(repositories: Repository[]): StageDesc {
  const sources: Record<string, unknown> = {};
  const keyrings: Record<string, string> = {};
  for (const r of repositories) {
    const stem = sourceStem(r.id);
    let signedBy = r.signedBy;
    if (signedBy?.includes('BEGIN PGP PUBLIC KEY BLOCK')) {
      keyrings[`${stem}.asc`] = signedBy;
      signedBy = `/etc/apt/keyrings/${stem}.asc`;
    }
    sources[stem] = {
      types: ['deb'],
      uris: r.uris,
      suites: r.suites,
      components: r.components,
      ...(signedBy ? { 'signed-by': signedBy } : {}),
    };
  }
  const hosts = insecureHosts(repositories);
  const tls = Object.fromEntries(
    hosts.flatMap((h) => [
      [`Acquire::https::${h}::Verify-Peer`, false],
      [`Acquire::https::${h}::Verify-Host`, false],
    ]),
  );
  return {
    type: 'org.osbuild.apt.config',
    options: {
      sources,
      ...(Object.keys(keyrings).length > 0 ? { keyrings } : {}),
      ...(hosts.length > 0 ? { config: { 'forge-tls': tls } } : {}),
      'remove-sources-list': true,
    },
  };
}
