export {
  type BuildOptions,
  type BuildResult,
  buildManifest,
  depsolve,
  fnmatch,
  markCheckpoints,
  type PipelineRun,
} from './build.ts';
export { ostreeCommitOf } from './build-metadata.ts';
export { bwrapArgv, DEFAULT_CAPABILITIES } from './buildroot.ts';
export { ResourceRegistry, releaseDeadEngines } from './crash-registry.ts';
export { EngineError, EngineErrorCode } from './errors.ts';
export { type BuildOutput, jsonResult, readBuildOutput } from './json-result.ts';
export { EngineIndex } from './modules.ts';
export {
  JSONSeqMonitor,
  LogMonitor,
  type Monitor,
  makeMonitor,
  NullMonitor,
  type StageResult,
} from './monitor.ts';
export { libdirRunner } from './runners.ts';
export {
  type CacheSize,
  DEFAULT_CACHE_MAX_SIZE,
  type DeadWork,
  ObjectStore,
  parseSize,
  recordMaximumSize,
  removeDeadWork,
} from './store.ts';
