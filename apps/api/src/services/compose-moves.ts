/**
 * The two writes every part of the service makes to a compose outside a request's own logic: a
 * move to another state and a line of the service's own in its log, each published as an event.
 * The compose service (composes.ts) and the lifecycle (lifecycle.ts) share them.
 */
import type { Compose, ComposeState, Store, TransitionOptions } from '@debian-forge/store';
import type { ComposeEvents } from '../events.ts';

/**
 * The service's own lines in a compose's log start with this, so reconciliation can tell them
 * from the worker's lines (which it compares with the queue's copy).
 */
export const OWN_LOG_PREFIX = '[forge] ';

/** Appends one of the service's own lines to a compose's log, and publishes it. */
export function ownLog(deps: { store: Store; events: ComposeEvents }, uuid: string, text: string): void {
  const line = `${OWN_LOG_PREFIX}${text}`;
  deps.store.composes.log.append(uuid, line);
  deps.events.publish({ type: 'log', uuid, line });
}

/** Moves a compose to another state and publishes the change. */
export function moveCompose(
  deps: { store: Store; events: ComposeEvents },
  uuid: string,
  to: ComposeState,
  opts: TransitionOptions = {},
): Compose {
  const compose = deps.store.composes.transition(uuid, to, opts);
  deps.events.publish({
    type: 'state',
    uuid,
    state: to,
    at: compose.stateTimes[to] ?? new Date().toISOString(),
  });
  return compose;
}
