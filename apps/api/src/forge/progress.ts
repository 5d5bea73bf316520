/**
 * The latest progress (stage n of m) of each compose being built, kept from the compose events for
 * `GET /composes/{uuid}`; progress is not stored in SQLite (it changes every few seconds and means
 * nothing once the compose has ended). A compose's entry goes when it reaches an end state.
 */
import { isTerminal } from '@debian-forge/store';
import type { ComposeEvents } from '../events.ts';

export interface Progress {
  done: number;
  total: number;
  message?: string;
}

export class ProgressTracker {
  readonly #latest = new Map<string, Progress>();
  readonly #unsubscribe: () => void;

  constructor(events: ComposeEvents) {
    this.#unsubscribe = events.subscribe((event) => {
      if (event.type === 'progress') {
        this.#latest.set(event.uuid, {
          done: event.done,
          total: event.total,
          ...(event.message === undefined ? {} : { message: event.message }),
        });
      } else if (event.type === 'state' && isTerminal(event.state)) {
        this.#latest.delete(event.uuid);
      }
    });
  }

  get(uuid: string): Progress | undefined {
    return this.#latest.get(uuid);
  }

  close(): void {
    this.#unsubscribe();
  }
}
