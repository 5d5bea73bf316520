/**
 * A compose request → its manifest: pick the distro and image type, gather the repositories (the
 * host's Debian mirror, the caller's extra sources and the blueprint's own), take the source epoch
 * from the repositories' release files unless given, and make the manifest. `forge manifest`,
 * `forge compose` and the API's compose service all go through here.
 */
import { debianRepositories, type Repository } from '@debian-forge/apt';
import { DEFAULT_DISTRO, DISTROS, type Distro, getDistro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import { getImageType, IMAGE_TYPES, type ImageType, type OstreeOptions } from './image-types.ts';
import { type BlueprintInput, type ManifestResult, makeManifest } from './manifest.ts';
import { type BlueprintRepository, blueprintRepositories } from './repositories.ts';
import type { PackageResolver } from './types.ts';

export interface ComposeTarget {
  /** A blueprint (its `distro` is the default distro; its repositories are added). */
  blueprint: BlueprintInput & {
    distro?: string;
    customizations?: BlueprintInput['customizations'] & { repositories?: BlueprintRepository[] };
  };
  imageType: string;
  /** Default: the blueprint's distro, else DEFAULT_DISTRO. */
  distro?: string;
  /** Default x86_64. */
  arch?: string;
  /** Image size in bytes; only for image types with a size. */
  size?: number;
  ostree?: OstreeOptions;
}

export interface ComposeTargetResolved {
  imageType: ImageType;
  distro: Distro;
  arch: string;
}

/**
 * Checks what a compose asks for before any package is resolved: image type, distro, architecture
 * and size. Throws ComposerError (`FORGE_ERR_COMPOSE_IMAGE_TYPE`, `_DISTRO`, `_ARCH`, `_SIZE`).
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
  return { imageType, distro, arch };
}

export interface PlanResolver extends PackageResolver {
  /** Seconds since the epoch of the newest release file among the repositories. */
  releaseEpoch(arch: string, repositories: Repository[]): Promise<number>;
}

export interface PlanOptions {
  resolver: PlanResolver;
  /** SOURCE_DATE_EPOCH; default: the newest release file's date. */
  sourceEpoch?: number;
  /** Repositories added after the host's Debian ones (e.g. a service's configured sources). */
  extraRepositories?: Repository[];
  /** The host's repositories to derive the Debian ones from (default: the host's apt sources). */
  hostRepositories?: Repository[];
}

/**
 * Stages worth keeping between composes: the package layers, the finished system and its OSTree
 * commit (which the commit and the disk of the same system share). `forge compose` and the
 * service's workers both build with them, so a warm store rebuilds from the first changed layer.
 */
export const CHECKPOINTS: readonly string[] = [
  'org.osbuild.debootstrap',
  'org.osbuild.apt',
  'os',
  'ostree-commit',
];

export interface ComposePlan extends ManifestResult, ComposeTargetResolved {}

/** Makes the manifest of a compose (see the top of this file). */
export async function planCompose(target: ComposeTarget, options: PlanOptions): Promise<ComposePlan> {
  const resolved = resolveComposeTarget(target);
  const { imageType, distro, arch } = resolved;
  const repositories = [
    ...(options.hostRepositories
      ? debianRepositories(distro.suite, options.hostRepositories)
      : debianRepositories(distro.suite)),
    ...(options.extraRepositories ?? []),
    ...blueprintRepositories(target.blueprint.customizations?.repositories, distro),
  ];
  const debArch = distro.arches[arch] as string;
  const sourceEpoch = options.sourceEpoch ?? (await options.resolver.releaseEpoch(debArch, repositories));
  const size = target.size === 0 ? undefined : target.size;
  const result = await makeManifest(
    {
      blueprint: target.blueprint,
      distro,
      imageType,
      arch,
      size,
      repositories,
      sourceEpoch,
      ...(target.ostree ? { ostree: target.ostree } : {}),
    },
    options.resolver,
  );
  return { ...result, ...resolved };
}
