export { loadCatalog, RUNNER_NAMES, stageFolders } from './catalog.ts';
export { defineStage, type MetaJson, metaJsonOf, type StageDefinition } from './define.ts';
export { buildLibdir, DEFAULT_LIBDIR } from './libdir.ts';
