import { CodedError, type CodeOf } from '@debian-forge/errors';

/** Errors of manifest generation, each with a stable code. */
export const ComposerErrorCode = {
  /** The requested size cannot hold the image's partitions. */
  Size: 'FORGE_ERR_COMPOSE_SIZE',
  /** The distro has no such architecture. */
  Arch: 'FORGE_ERR_COMPOSE_ARCH',
  /** The OSTree options (ref, parent, url) are invalid, or given for a type without a commit. */
  Ostree: 'FORGE_ERR_COMPOSE_OSTREE',
  /** No image type of that name. */
  ImageType: 'FORGE_ERR_COMPOSE_IMAGE_TYPE',
  /** No distro of that name. */
  Distro: 'FORGE_ERR_COMPOSE_DISTRO',
  /** A source package's build dependencies cannot be satisfied from the repositories; apt's words name them. */
  BuildDepends: 'FORGE_ERR_COMPOSE_BUILD_DEPENDS',
  /** A blueprint's source package builds none of the binary packages its `install` names for the architecture. */
  SourceInstall: 'FORGE_ERR_COMPOSE_SOURCE_INSTALL',
  /** A local path is not a source package (a tree with debian/, or a .dsc), or dpkg-source cannot build one from it. */
  LocalSource: 'FORGE_ERR_COMPOSE_LOCAL_SOURCE',
  /** A file a local .dsc lists is missing beside it, or its size or SHA256 is not the one listed. */
  LocalSourceFile: 'FORGE_ERR_COMPOSE_LOCAL_SOURCE_FILE',
  /** A local source package is larger than a manifest may carry. */
  LocalSourceSize: 'FORGE_ERR_COMPOSE_LOCAL_SOURCE_SIZE',
  /** A source package path outside the directories the planner may read sources from. */
  LocalSourceDenied: 'FORGE_ERR_COMPOSE_LOCAL_SOURCE_DENIED',
} as const;

export type ComposerErrorCode = CodeOf<typeof ComposerErrorCode>;

export class ComposerError extends CodedError<ComposerErrorCode> {
  override readonly name = 'ComposerError';
}
