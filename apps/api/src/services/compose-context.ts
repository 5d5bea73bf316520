/**
 * What the parts of the compose service (compose-*.ts) share: its dependencies, its options with
 * their defaults applied, and the work in flight that `pending()` and the lifecycle ask about.
 */
import type { ModuleIndex } from '@debian-forge/manifest';
import type { Resources } from '@debian-forge/queue';
import type { Compose } from '@debian-forge/store';
import { DEFAULT_MAX_IMAGE_SIZE, defaultResources } from './compose-requests.ts';
import {
  type ComposeServiceDeps,
  type ComposeServiceOptions,
  DEFAULT_PLAN_WAIT_SECONDS,
} from './composes.ts';
import { aptPlanner, type ComposePlanner } from './planner.ts';

export interface ComposeContext extends ComposeServiceDeps {
  planner: ComposePlanner;
  resources: (compose: Compose) => Resources;
  manifestIndex: ModuleIndex | undefined;
  planWaitMs: number;
  maxImageSize: number;
  /** The manifest steps running (each settles when its compose is queued or has ended). */
  planning: Set<Promise<void>>;
  /** The composes whose build job is being added to the queue (QUEUED before the job exists). */
  queueing: Set<string>;
}

export function composeContext(deps: ComposeServiceDeps, options: ComposeServiceOptions): ComposeContext {
  const { store, queue, config, events, ostree } = deps;
  return {
    store,
    queue,
    config,
    events,
    ostree,
    planner:
      options.planner ??
      aptPlanner(config.stateDir, store, {
        hostBuildRoot: options.hostBuildRoot,
        ...(options.sourceDirs ? { sourceDirs: options.sourceDirs } : {}),
      }),
    resources: options.resources ?? defaultResources,
    manifestIndex: options.manifestIndex,
    planWaitMs: (options.planWaitSeconds ?? DEFAULT_PLAN_WAIT_SECONDS) * 1000,
    maxImageSize: options.maxImageSize ?? DEFAULT_MAX_IMAGE_SIZE,
    planning: new Set(),
    queueing: new Set(),
  };
}
