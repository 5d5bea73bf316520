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
export {
  type Artifact,
  type ArtifactInput,
  type BlueprintChange,
  type BlueprintJson,
  type Compose,
  type ComposeApi,
  type ComposeBuild,
  type ComposeInput,
  type LogLine,
  openStore,
  type Page,
  type Paged,
  type PushOptions,
  type Source,
  type SourceInput,
  type Store,
  type StoredBlueprint,
  type StoreOptions,
  type TransitionOptions,
  weldrTimestamp,
} from './store.ts';
