export {
  BASE_SETS,
  type BaseSet,
  type DepsolveRequest,
  depsolve,
  depsolveLayers,
  type PackageRequest,
  parsePackageRequest,
  type RelationLayer,
  type ResolvedPackage,
} from './depsolve.ts';
export { AptError, AptErrorCode } from './errors.ts';
export { buildLocalRepository, type LocalPackage, type LocalRepositoryOptions } from './local-repo.ts';
export {
  clearIndexCache,
  type IndexOptions,
  loadIndex,
  type PackageIndex,
  type PackageRecord,
} from './packages.ts';
export {
  AptRoot,
  type AptRootOptions,
  type IndexTarget,
  openRoot,
  rootKey,
  type UpdateResult,
} from './root.ts';
export {
  globToRegExp,
  info,
  infoMany,
  type PackageInfo,
  type PackageSummary,
  type SearchQuery,
  type SearchResult,
  search,
} from './search.ts';
export {
  BUILD_RELATION_FIELDS,
  type BuildRelationField,
  debianSourceRepositories,
  type ResolvedSource,
  resolveSource,
  type SourceFile,
  type SourceRequest,
} from './source.ts';
export {
  DEBIAN_ARCHIVE_KEYRING,
  DEBIAN_RELEASES,
  debianCodename,
  debianRepositories,
  type HostSourcePaths,
  hostDebianProblem,
  isDebianRepository,
  isDebianSuite,
  parseDeb822Sources,
  parseOneLineSources,
  type Repository,
  type RepositoryType,
  readHostSources,
} from './sources.ts';
export { insecureHosts, onInsecureHost, tlsConfigLines } from './tls.ts';
