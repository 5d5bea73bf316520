export type { Artifact, ArtifactInput } from './artifacts.ts';
export type { BlueprintChange, BlueprintJson, PushOptions, StoredBlueprint } from './blueprints.ts';
export type {
  Compose,
  ComposeApi,
  ComposeBuild,
  ComposeInput,
  LogLine,
  TransitionOptions,
} from './composes.ts';
export { type Page, type Paged, weldrTimestamp } from './database.ts';
export { StoreError, StoreErrorCode, TransitionError } from './errors.ts';
export {
  checkSchema,
  latestVersion,
  MIGRATIONS,
  type Migration,
  migrate,
  schemaVersion,
} from './migrations.ts';
export { describeRepair, type NameRepair } from './repair.ts';
export type { Source, SourceInput } from './sources.ts';
export {
  COMPOSE_STATES,
  type ComposeState,
  canTransition,
  isComposeState,
  isTerminal,
  statesOfWeldrStatus,
  TRANSITIONS,
  type WeldrStatus,
  weldrStatus,
} from './states.ts';
export { openStore, type Store, type StoreOptions } from './store.ts';
