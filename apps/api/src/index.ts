export { type BuildAppOptions, buildApp } from './app.ts';
export { type ApiConfig, DEFAULT_BODY_LIMIT, defaultConfig } from './config.ts';
export type { AppDeps } from './deps.ts';
export { ApiError, WeldrError } from './errors.ts';
export { type ComposeEvent, ComposeEvents } from './events.ts';
export { groupId, type Listening, listen } from './server.ts';
export { DEFAULT_MAX_IMAGE_SIZE, defaultResources } from './services/compose-requests.ts';
export { createComposeService } from './services/compose-service.ts';
export {
  type ComposeServiceForLifecycle,
  type ComposeServiceOptions,
  DEFAULT_PLAN_WAIT_SECONDS,
} from './services/composes.ts';
export { type Lifecycle, type LifecycleOptions, startComposeLifecycle } from './services/lifecycle.ts';
export { createOstreeRepo, type OstreeRepo } from './services/ostree-repo.ts';
