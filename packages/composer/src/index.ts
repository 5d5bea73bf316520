export { type AptResolver, aptResolver } from './apt-resolver.ts';
export { ATOMIC_OSNAME, ATOMIC_REMOTE, defaultOstreeRef } from './atomic.ts';
export { BUILD_PIPELINE, BUILD_ROOT_BASE, buildRootLayers, STAGE_TOOLS, stageTools } from './build-root.ts';
export {
  customizationPackages,
  customizationStages,
  type StageDesc,
} from './customizations.ts';
export { diskLayout } from './disk.ts';
export { DEFAULT_DISTRO, DISTROS, type Distro, getDistro } from './distros.ts';
export { ComposerError, ComposerErrorCode } from './errors.ts';
export type { ImageType, OstreeOptions, PipelineDesc } from './image-type.ts';
export { getImageType, IMAGE_TYPES, type ImageTypeInfo, listImageTypes } from './image-types.ts';
export {
  LOCAL_REPOSITORY,
  LOCAL_SOURCE_MAX_BYTES,
  type LocalSource,
  type LocalSourceOptions,
  localSource,
} from './local-source.ts';
export {
  type ManifestRequest,
  type ManifestResult,
  makeManifest,
  packageSpec,
} from './manifest.ts';
export {
  CHECKPOINTS,
  type ComposePlan,
  type ComposeTarget,
  type ComposeTargetResolved,
  type PlannedPackage,
  type PlanOptions,
  type PlanResolver,
  planCompose,
  plannedPackage,
  planPackages,
  resolveComposeTarget,
} from './plan.ts';
export { blueprintRepositories } from './repositories.ts';
export {
  buildRelations,
  makeSbuildManifest,
  SBUILD_BASE,
  SBUILD_BUILD_PIPELINE,
  SBUILD_CHECKPOINTS,
  SBUILD_PIPELINES,
  type SbuildOptions,
  type SbuildPipelines,
  type SbuildRequest,
  sbuildPipelineNames,
  sbuildPipelines,
} from './sbuild.ts';
export {
  type BuiltPackage,
  installBuiltStage,
  resolveSourceBuilds,
  type SourceBuild,
  sourceBuildPipelines,
  sourceCheckpoints,
} from './source-packages.ts';
export type { LayerRequest, PackageResolver, Repository, ResolvedPackage } from './types.ts';
export { seededUuid } from './uuids.ts';
