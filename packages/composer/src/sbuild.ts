/**
 * A Debian source package built into binary packages, as pipelines of a manifest (issue "Debian
 * packages built from source"):
 *
 *   sbuild-env  the build environment: minbase, then build-essential and fakeroot (with any extra
 *               packages), then the source's build dependencies as apt resolves its relations on
 *               top of them (`apt-get satisfy`, as sbuild's apt resolver installs its dummy package),
 *               every package pinned; its id depends on those packages only, so a rebuild with the
 *               same dependencies starts from the store;
 *   source      the source package unpacked from its pinned .dsc and files (org.osbuild.debian.source);
 *   debs        org.osbuild.sbuild with both trees as inputs: the .debs, .buildinfo, .changes, log.
 *
 * The environment is an input of the sbuild stage, not the build root of `debs`: a stage's build
 * root lends the sandbox its /usr only, while a build needs the environment's whole tree (its /etc
 * with the alternatives and dpkg's origins, its dpkg database for dpkg-checkbuilddeps and the
 * .buildinfo). So it holds what sbuild's chroot holds and nothing of ours (no Node.js, no
 * bubblewrap): the stages run in the manifest's build root, or the host's without one.
 */
import { AptError, AptErrorCode, type ResolvedSource } from '@debian-forge/apt';
import type { ManifestV2 } from '@debian-forge/manifest';
import { BUILD_PIPELINE, buildRootLayers } from './build-root.ts';
import type { InlineItems } from './customizations.ts';
import type { Distro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { PipelineDesc } from './image-type.ts';
import { type CurlItems, curlItems, layerStages } from './layer-stages.ts';
import type { LayerRequest, PackageResolver, Repository, ResolvedPackage } from './types.ts';

export const SBUILD_PIPELINES = { environment: 'sbuild-env', source: 'source', debs: 'debs' } as const;

/**
 * What a build keeps in the object store: the environment's package layers, the build root, the
 * environment, the unpacked source and the built packages, so a build with the same dependencies
 * starts from the store and a second build of the same source runs no stage.
 */
export const SBUILD_CHECKPOINTS: readonly string[] = [
  'org.osbuild.debootstrap',
  'org.osbuild.apt',
  BUILD_PIPELINE,
  SBUILD_PIPELINES.environment,
  SBUILD_PIPELINES.source,
  SBUILD_PIPELINES.debs,
];

/** What every build environment has beyond minbase, as sbuild's: the build tool chain and fakeroot. */
export const SBUILD_BASE: readonly string[] = ['build-essential', 'fakeroot'];

/** The org.osbuild.sbuild options a request may set (the stage's schema checks them). */
export interface SbuildOptions {
  'arch-all'?: boolean;
  'arch-any'?: boolean;
  profiles?: string[];
  'build-options'?: string[];
  binnmu?: number;
  'binnmu-message'?: string;
  'append-to-version'?: string;
  maintainer?: string;
  'binnmu-timestamp'?: number;
  distribution?: string;
}

export interface SbuildRequest {
  distro: Distro;
  /** Composer's architecture name; default x86_64. */
  arch?: string;
  /** The source package, as resolveSource pinned it. */
  source: ResolvedSource;
  /** Where the build environment's packages come from. */
  repositories: Repository[];
  sourceEpoch: number;
  options?: SbuildOptions;
  /** Packages the environment gets besides build-essential, fakeroot and the build dependencies. */
  extraPackages?: string[];
  /** The build pipeline the three pipelines name; none: they run with the host's tools. */
  build?: string;
  /**
   * The source's files carried in the manifest (a local source, see local-source.ts): those it
   * holds are org.osbuild.inline items instead of org.osbuild.curl ones.
   */
  inline?: InlineItems;
  /**
   * Appended to the three pipelines' names (`-hello`: sbuild-env-hello, source-hello, debs-hello),
   * so several sources fit one manifest; none: the names of SBUILD_PIPELINES.
   */
  suffix?: string;
}

/** The names of the three pipelines of a request with `suffix`. */
export function sbuildPipelineNames(suffix = ''): { environment: string; source: string; debs: string } {
  return {
    environment: `${SBUILD_PIPELINES.environment}${suffix}`,
    source: `${SBUILD_PIPELINES.source}${suffix}`,
    debs: `${SBUILD_PIPELINES.debs}${suffix}`,
  };
}

export interface SbuildPipelines {
  /** sbuild-env, source, debs. */
  pipelines: PipelineDesc[];
  /** org.osbuild.curl items: the environment's .debs and the source's files not in `inline`. */
  items: CurlItems;
  /** org.osbuild.inline items: the request's `inline`. */
  inline: InlineItems;
  /** The environment's packages per layer (minbase, tool chain, build dependencies). */
  environment: ResolvedPackage[][];
}

/** The relation fields a build reads, as sbuild takes them: -Arch only for arch-any, -Indep for arch-all. */
export function buildRelations(
  source: ResolvedSource,
  options: Pick<SbuildOptions, 'arch-all' | 'arch-any'> = {},
): { depends: string[]; conflicts: string[] } {
  const r = source.buildRelations;
  const any = options['arch-any'] ?? true;
  const all = options['arch-all'] ?? true;
  const pick = (...fields: (string | undefined)[]) => fields.filter((f): f is string => !!f?.trim());
  return {
    depends: pick(
      r['Build-Depends'],
      any ? r['Build-Depends-Arch'] : undefined,
      all ? r['Build-Depends-Indep'] : undefined,
    ),
    conflicts: pick(
      r['Build-Conflicts'],
      any ? r['Build-Conflicts-Arch'] : undefined,
      all ? r['Build-Conflicts-Indep'] : undefined,
    ),
  };
}

/** The pipelines that build `req.source`, resolved and pinned. */
export async function sbuildPipelines(
  req: SbuildRequest,
  resolver: PackageResolver,
): Promise<SbuildPipelines> {
  const arch = req.arch ?? 'x86_64';
  const debArch = req.distro.arches[arch];
  if (!debArch)
    throw new ComposerError(ComposerErrorCode.Arch, `${req.distro.name} has no architecture ${arch}`);
  const o = req.options ?? {};
  const { depends, conflicts } = buildRelations(req.source, o);
  const layers: LayerRequest[] = [
    { packages: ['usr-is-merged'], base: 'minbase' },
    { packages: [...SBUILD_BASE, ...(req.extraPackages ?? [])] },
    { packages: [], relations: depends, conflicts, ...(o.profiles?.length ? { profiles: o.profiles } : {}) },
  ];
  let environment: ResolvedPackage[][];
  try {
    environment = await resolver.resolveLayers(req.distro.suite, debArch, req.repositories, layers);
  } catch (err) {
    if (
      !(
        err instanceof AptError &&
        (err.code === AptErrorCode.Unsatisfiable || err.code === AptErrorCode.NotFound)
      )
    ) {
      throw err;
    }
    throw new ComposerError(
      ComposerErrorCode.BuildDepends,
      `the build dependencies of ${req.source.name} ${req.source.version} cannot be satisfied on ${req.distro.name}:\n${err.message}`,
      { cause: err },
    );
  }
  const names = sbuildPipelineNames(req.suffix);
  const build = req.build ? { build: `name:${req.build}` } : {};
  const common = { ...build, runner: req.distro.runner, 'source-epoch': req.sourceEpoch };
  const files = [req.source.dsc, ...req.source.files];
  const tree = (name: string) => ({
    type: 'org.osbuild.tree',
    origin: 'org.osbuild.pipeline',
    references: [`name:${name}`],
  });
  const pipelines: PipelineDesc[] = [
    {
      name: names.environment,
      ...common,
      stages: layerStages(environment, layers, req.distro.suite, debArch),
    },
    {
      name: names.source,
      ...common,
      stages: [
        {
          type: 'org.osbuild.debian.source',
          inputs: {
            sources: {
              type: 'org.osbuild.files',
              origin: 'org.osbuild.source',
              references: files.map((f) => `sha256:${f.sha256}`),
            },
          },
          options: { dsc: `sha256:${req.source.dsc.sha256}` },
        },
      ],
    },
    {
      name: names.debs,
      ...common,
      stages: [
        {
          type: 'org.osbuild.sbuild',
          inputs: { environment: tree(names.environment), source: tree(names.source) },
          options: { ...o },
        },
      ],
    },
  ];
  const inline = req.inline ?? {};
  const fetched = [...environment.flat(), ...files].filter((f) => !inline[`sha256:${f.sha256}`]);
  return { pipelines, items: curlItems(fetched, req.repositories), inline, environment };
}

/** The build root the sbuild pipelines of a compose's manifest name (forge sbuild's is `build`). */
export const SBUILD_BUILD_PIPELINE = 'build-sbuild';

/**
 * The build root of sbuild pipelines: the distro's packages holding the tools of their stages and
 * nothing for the image's, so a source's environment, unpacked source and built packages have one
 * id wherever they are built (`forge sbuild`, a compose of any image type) and the store keeps them once.
 */
export async function sbuildBuildRoot(
  req: Pick<SbuildRequest, 'distro' | 'arch' | 'repositories' | 'sourceEpoch'> & { name: string },
  pipelines: PipelineDesc[],
  resolver: PackageResolver,
): Promise<{ pipeline: PipelineDesc; packages: ResolvedPackage[][]; items: SbuildPipelines['items'] }> {
  const debArch = req.distro.arches[req.arch ?? 'x86_64'] as string;
  const layers = buildRootLayers(pipelines);
  const packages = await resolver.resolveLayers(req.distro.suite, debArch, req.repositories, layers);
  return {
    pipeline: {
      name: req.name,
      runner: req.distro.runner,
      'source-epoch': req.sourceEpoch,
      stages: layerStages(packages, layers, req.distro.suite, debArch),
    },
    packages,
    items: curlItems(packages.flat(), req.repositories),
  };
}

/**
 * A manifest of the sbuild pipelines alone; with `buildRoot`, after a `build` pipeline of the
 * distro's packages holding the tools of their stages (sbuildBuildRoot), which they all name.
 */
export async function makeSbuildManifest(
  req: SbuildRequest & { buildRoot?: boolean },
  resolver: PackageResolver,
): Promise<{ manifest: ManifestV2; environment: ResolvedPackage[][]; buildPackages: ResolvedPackage[][] }> {
  const made = await sbuildPipelines(
    { ...req, ...(req.buildRoot ? { build: BUILD_PIPELINE } : {}) },
    resolver,
  );
  const root = req.buildRoot
    ? await sbuildBuildRoot({ ...req, name: BUILD_PIPELINE }, made.pipelines, resolver)
    : undefined;
  const manifest: ManifestV2 = {
    version: '2',
    pipelines: [...(root ? [root.pipeline] : []), ...made.pipelines],
    sources: {
      'org.osbuild.curl': {
        items: { ...root?.items, ...made.items },
      },
      ...(Object.keys(made.inline).length > 0 ? { 'org.osbuild.inline': { items: made.inline } } : {}),
    },
    metadata: { generators: [{ name: 'debian-forge', version: '0.1.0' }] },
  };
  return { manifest, environment: made.environment, buildPackages: root?.packages ?? [] };
}
