/**
 * What the parts of the compose lifecycle (lifecycle-*.ts) share: its dependencies, where errors
 * go, how a dead worker is told, and the one line in which events and looks are handled.
 */
import { type ForgeQueue, isRedisUnavailable, type WorkerProcess } from '@debian-forge/queue';
import type { Store } from '@debian-forge/store';
import type { ComposeEvents } from '../events.ts';
import type { ComposeServiceForLifecycle } from './composes.ts';
import type { OstreeRepo } from './ostree-repo.ts';

export interface LifecycleDeps {
  store: Store;
  queue: ForgeQueue;
  events: ComposeEvents;
  composes: ComposeServiceForLifecycle;
  /** Where the commit of a compose that ends COMPLETED with one is published. */
  ostree: OstreeRepo;
}

export interface LifecycleContext extends LifecycleDeps {
  /** Handles `fn` after everything handed over before it (see SerialHandler). */
  run(fn: () => unknown): void;
  /** Where errors of event handling go. */
  onError(err: unknown): void;
  /** Whether a worker's announced process has ended. */
  gone(p: WorkerProcess): boolean;
}

/**
 * Events are handled one at a time, in order: each handler runs after the ones before it have
 * settled. An error goes to `onError`, bar Redis away (what it stopped is caught up when Redis is
 * back).
 */
export class SerialHandler {
  #chain: Promise<void> = Promise.resolve();

  constructor(readonly onError: (err: unknown) => void) {}

  run(fn: () => unknown): void {
    this.#chain = this.#chain.then(fn).catch((err) => {
      if (!isRedisUnavailable(err)) this.onError(err); // else caught up when Redis is back
    }) as Promise<void>;
  }

  /** Resolves when every handler handed over so far, and those they handed over, have run. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.#chain;
      await seen;
    } while (seen !== this.#chain);
  }

  /** Resolves when the handlers handed over so far have run. */
  settled(): Promise<void> {
    return this.#chain;
  }
}
