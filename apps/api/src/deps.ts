/**
 * What the application is built from (`buildApp` in app.ts), in a module of its own so the route
 * plugins that take it import neither the app nor each other; and the services a route needs, which
 * an app built for another purpose may lack.
 */

import type { ForgeQueue } from '@debian-forge/queue';
import type { Store } from '@debian-forge/store';
import type { ApiConfig } from './config.ts';
import type { ComposeEvents } from './events.ts';
import type { ComposeServiceForLifecycle } from './services/composes.ts';
import type { OstreeRepo } from './services/ostree-repo.ts';
import type { PackageService } from './services/packages.ts';

export interface AppDeps {
  config: ApiConfig;
  store: Store;
  queue: ForgeQueue;
  events: ComposeEvents;
  /** The OSTree repository the service keeps and serves (services/ostree-repo.ts). */
  ostree: OstreeRepo;
  /** Creates, cancels and removes composes (services/composes.ts); the compose routes need it. */
  composes?: ComposeServiceForLifecycle;
  /** The package catalogue (projects, modules, depsolve); one over `config.stateDir` when left out. */
  packages?: PackageService;
}

export function composeService(deps: AppDeps): ComposeServiceForLifecycle {
  if (!deps.composes) throw new Error('the app was built without a compose service');
  return deps.composes;
}

export function packageService(deps: AppDeps): PackageService {
  if (!deps.packages) throw new Error('the app was built without a package service');
  return deps.packages;
}
