export { loadCatalog, RUNNER_NAMES, stageFolders } from './catalog.ts';
export { buildLibdir } from './libdir.ts';
export { DEFAULT_LIBDIR } from './location.ts';
export { defineStage, type MetaJson, metaJsonOf, type StageDefinition } from './shared/define.ts';
