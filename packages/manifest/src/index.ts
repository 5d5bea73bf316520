export { type DescribeOptions, describeManifest } from './describe.ts';
export { ManifestError, ManifestErrorCode } from './errors.ts';
export { deviceId, inputId, mountId, stageId } from './ids.ts';
export {
  DEFAULT_MAX_MANIFEST_BYTES,
  detectFormat,
  type LoadOptions,
  loadManifest,
  ManifestValidationError,
  parseManifestText,
  type ReadOptions,
  validateManifest,
} from './load.ts';
export * from './model.ts';
export { checkModuleMeta, LibdirIndex, type ModuleIndex, type ModuleMeta } from './module-index.ts';
export {
  checkName,
  type InsideOptions,
  joinInside,
  nameError,
  nameProblem,
} from './names.ts';
export {
  compareCodePoints,
  DEFAULT_MAX_DEPTH,
  jsonDepthProblem,
  orderedObject,
  parseJson,
  pyDumps,
  pyDumpsMember,
  pyFloatRepr,
  pyKeys,
  pyRepr,
  pyString,
  pyTruthy,
} from './pyjson.ts';
export { detectRunner, hostRunnerName, OSBUILD_RUNNERS } from './runner.ts';
export {
  MANIFEST_V2_SCHEMA,
  META_JSON_SCHEMA,
  MODULE_FOLDERS,
  type ModuleClass,
  moduleSchema,
} from './schema.ts';
export type { ManifestV2, PipelineV2, StageV2 } from './v2.ts';
export {
  type JsonPath,
  pathId,
  Schema,
  VALIDATION_ERROR_TITLE,
  VALIDATION_ERROR_TYPE,
  type ValidationError,
  type ValidationErrorDocument,
  ValidationResult,
} from './validation.ts';
