/**
 * What happens to composes, as events inside the API process: the queue listener publishes them,
 * the Forge API's event stream (server-sent events) and tests subscribe.
 */
import { EventEmitter } from 'node:events';
import type { ComposeState } from '@debian-forge/store';

export type ComposeEvent =
  | { type: 'state'; uuid: string; state: ComposeState; at: string }
  | { type: 'progress'; uuid: string; done: number; total: number; message?: string }
  | { type: 'log'; uuid: string; line: string };

export class ComposeEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Every open event stream is one listener; there is no fixed bound on them.
    this.#emitter.setMaxListeners(0);
  }

  publish(event: ComposeEvent): void {
    this.#emitter.emit('event', event);
  }

  /** Calls `listener` for each event until the returned function is called. */
  subscribe(listener: (event: ComposeEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}
