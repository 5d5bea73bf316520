/**
 * A compose request → its build plan: pick the distro and image type (resolveComposeTarget, once),
 * gather the repositories (the host's Debian mirror, the caller's extra sources and the blueprint's
 * own), take the source epoch from the repositories' release files unless given, make the manifest,
 * and say how to build it. `forge manifest`, `forge compose` and the API's compose service all go
 * through here; the service stores the plan, its workers build it, and every answer about the
 * compose's packages reads them from it.
 */
import { debianRepositories, type Repository, type ResolvedPackage } from '@debian-forge/apt';
import type { Blueprint } from '@debian-forge/blueprint';
import { debianEvr } from '@debian-forge/debian-version';
import type { ManifestV2 } from '@debian-forge/manifest';
import type { AptResolver } from './apt-resolver.ts';
import { DEFAULT_DISTRO, DISTROS, type Distro, getDistro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { ImageType, OstreeOptions } from './image-type.ts';
import { getImageType, IMAGE_TYPES } from './image-types.ts';
import { makeManifest, ostreeOptions } from './manifest.ts';
import { blueprintRepositories } from './repositories.ts';
import { type BuiltPackage, resolveSourceBuilds, sourceCheckpoints } from './source-packages.ts';

export interface ComposeTarget {
  /** A blueprint (its `distro` is the default distro; its repositories are added). */
  blueprint: Blueprint;
  imageType: string;
  /** Default: the blueprint's distro, else DEFAULT_DISTRO. */
  distro?: string;
  /** Default x86_64. */
  arch?: string;
  /** Image size in bytes; only for image types with a size (0: the image type's). */
  size?: number;
  ostree?: OstreeOptions;
}

/** A compose target with its names looked up and checked: what planCompose takes. */
export interface ComposeTargetResolved {
  blueprint: Blueprint;
  imageType: ImageType;
  distro: Distro;
  arch: string;
  /** Bytes; undefined for the image type's default. */
  size?: number;
  /** Only what was given (no empty values). */
  ostree: OstreeOptions;
}

/**
 * Checks what a compose asks for before any package is resolved: image type, distro, architecture,
 * size, and OSTree options only for the types that make a commit. Throws ComposerError
 * (`FORGE_ERR_COMPOSE_IMAGE_TYPE`, `_DISTRO`, `_ARCH`, `_SIZE`, `_OSTREE`).
 */
export function resolveComposeTarget(target: ComposeTarget): ComposeTargetResolved {
  const imageType = getImageType(target.imageType);
  if (!imageType) {
    throw new ComposerError(
      ComposerErrorCode.ImageType,
      `unknown image type '${target.imageType}' (${IMAGE_TYPES.map((t) => t.name).join(', ')})`,
    );
  }
  const distroName = target.distro || target.blueprint.distro || DEFAULT_DISTRO;
  const distro = getDistro(distroName);
  if (!distro) {
    throw new ComposerError(
      ComposerErrorCode.Distro,
      `unknown distro '${distroName}' (${DISTROS.map((d) => d.name).join(', ')})`,
    );
  }
  const arch = target.arch || 'x86_64';
  if (!distro.arches[arch]) {
    throw new ComposerError(ComposerErrorCode.Arch, `${distro.name} has no architecture '${arch}'`);
  }
  if (target.size !== undefined && target.size !== 0 && imageType.defaultSize === 0) {
    throw new ComposerError(ComposerErrorCode.Size, `image type ${imageType.name} has no size`);
  }
  const ostree = ostreeOptions(imageType, target.ostree);
  const size = target.size === 0 ? undefined : target.size;
  return { blueprint: target.blueprint, imageType, distro, arch, ...(size ? { size } : {}), ostree };
}

/**
 * What planning asks apt: packages resolved in layers, the source epoch, and the blueprint's source
 * packages pinned with the archive's binaries of them (aptResolver).
 */
export type PlanResolver = AptResolver;

export interface PlanOptions {
  resolver: PlanResolver;
  /** SOURCE_DATE_EPOCH; default: the newest release file's date. */
  sourceEpoch?: number;
  /** Repositories added after the host's Debian ones (e.g. a service's configured sources). */
  extraRepositories?: Repository[];
  /** The host's repositories to derive the Debian ones from (default: the host's apt sources). */
  hostRepositories?: Repository[];
  /** Build with the host's tools instead of a `build` pipeline of the distro's (ManifestRequest). */
  hostBuildRoot?: boolean;
  /**
   * Canonical directories a blueprint's source package paths must lie in: a service gives its
   * configured ones (none: no paths), since its callers are not the machine's users. Without it
   * any path is read (`forge compose`, whose caller is).
   */
  localSourceDirs?: readonly string[];
}

/**
 * Stages worth keeping between composes: the package layers, the build root, the finished system
 * and its OSTree commit (which the commit and the disk of the same system share). `forge compose`
 * and the service's workers both build with them, so a warm store rebuilds from the first changed
 * layer, and the build root of a distro and tool set is built once.
 */
export const CHECKPOINTS: readonly string[] = [
  'org.osbuild.debootstrap',
  'org.osbuild.apt',
  'build',
  'os',
  'ostree-commit',
];
// The sbuild pipelines of a blueprint's source packages are kept too (sourceCheckpoints), so a
// compose with the same sources runs no build.

/** A package of the image as apt resolved it, its Debian version in the words Weldr uses. */
export interface PlannedPackage {
  name: string;
  /** The Debian version `[epoch:]upstream[-revision]` split: epoch (0 when none) … */
  epoch: number;
  /** … upstream version … */
  version: string;
  /** … and Debian revision ("" when none). */
  release: string;
  /** The package's architecture (`amd64`, `all`). */
  arch: string;
  /** Bytes of the .deb, from the Packages index. */
  size: number;
  sha256: string;
  /** Id of the repository it comes from. */
  repository: string;
  /** Where the .deb is fetched from (as apt printed it, percent-quoted). */
  url: string;
}

/** A resolved package as the plan keeps it; also how Weldr and the Cloud API print apt's answers. */
export function plannedPackage(p: ResolvedPackage): PlannedPackage {
  return {
    name: p.name,
    ...debianEvr(p.version),
    arch: p.arch,
    size: p.size,
    sha256: p.sha256,
    repository: p.repository,
    url: p.url,
  };
}

/**
 * How to build a compose and what it holds: everything downstream (the store, the worker, `forge
 * compose`, compose info and metadata) reads it from here and derives nothing again.
 */
export interface ComposePlan {
  manifest: ManifestV2;
  /** The pipelines to export (forge build --export); the artifact is in the first. */
  exports: string[];
  /** The image: its file name in the first export, and its MIME type. */
  artifact: { filename: string; mimeType: string };
  /** Pipelines and stages whose trees are kept in the object store (forge build --checkpoint). */
  checkpoints: string[];
  /**
   * The packages of each layer, in install order (the base system, the image type's, the
   * blueprint's), each holding only what it adds to the layers before it.
   */
  layers: PlannedPackage[][];
  /**
   * The packages built from the blueprint's source packages and installed into the image (in no
   * layer). Plans stored before source packages existed lack it.
   */
  built?: BuiltPackage[];
}

/** Every package of a plan's layers, by name. */
export function planPackages(plan: Pick<ComposePlan, 'layers'>): PlannedPackage[] {
  return plan.layers.flat().sort((a, b) => a.name.localeCompare(b.name));
}

/** Makes the plan of a compose (see the top of this file). */
export async function planCompose(target: ComposeTargetResolved, options: PlanOptions): Promise<ComposePlan> {
  const { blueprint, imageType, distro, arch, size, ostree } = target;
  const debian = options.hostRepositories
    ? debianRepositories(distro.suite, options.hostRepositories)
    : debianRepositories(distro.suite);
  const repositories = [
    ...debian,
    ...(options.extraRepositories ?? []),
    ...blueprintRepositories(blueprint.customizations?.repositories, distro),
  ];
  const debArch = distro.arches[arch] as string;
  const sourceEpoch = options.sourceEpoch ?? (await options.resolver.releaseEpoch(debArch, repositories));
  const sourceBuilds = await resolveSourceBuilds(blueprint, {
    distro,
    debArch,
    repositories,
    resolver: options.resolver,
    ...(options.hostRepositories ? { hostRepositories: options.hostRepositories } : {}),
    ...(options.localSourceDirs ? { localSourceDirs: options.localSourceDirs } : {}),
  });
  const { manifest, layers } = await makeManifest(
    {
      blueprint,
      distro,
      imageType,
      arch,
      size,
      repositories,
      buildRepositories: debian,
      sourceEpoch,
      ostree,
      ...(options.hostBuildRoot ? { hostBuildRoot: true } : {}),
      ...(sourceBuilds.length > 0 ? { sourceBuilds } : {}),
    },
    options.resolver,
  );
  return {
    manifest,
    exports: [imageType.exportPipeline],
    artifact: { filename: imageType.filename, mimeType: imageType.mimeType },
    checkpoints: [...CHECKPOINTS, ...sourceCheckpoints(sourceBuilds)],
    layers: layers.map((l) => l.map(plannedPackage)),
    ...(sourceBuilds.length > 0 ? { built: sourceBuilds.flatMap((b) => b.install) } : {}),
  };
}
