/**
 * The reads and writes of a compose that every part of the service makes outside a request's own
 * logic: the row or a 404, a move to another state and a line of the service's own in its log
 * (each published as an event), the end FAILED with its reason, and the removal of a compose with
 * its artifacts. The parts of the compose service (compose-*.ts), the lifecycle (lifecycle*.ts)
 * and the routes that read one compose share them.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Compose, ComposeState, Store, TransitionOptions } from '@debian-forge/store';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import type { ComposeEvents } from '../events.ts';

/**
 * The service's own lines in a compose's log start with this, so reconciliation can tell them
 * from the worker's lines (which it compares with the queue's copy).
 */
export const OWN_LOG_PREFIX = '[forge] ';

/** The states a compose ends in. */
export const TERMINAL: readonly ComposeState[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** The compose or a 404 ApiError. */
export function mustGetCompose(store: Store, uuid: string): Compose {
  const compose = store.composes.get(uuid);
  if (!compose) throw ApiError.of(ComposeErrorCode.NotFound, `compose ${uuid} does not exist`);
  return compose;
}

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

/** Ends a compose FAILED with `error`: a line in its log says why, and the reason is its error. */
export function failCompose(
  deps: { store: Store; events: ComposeEvents },
  uuid: string,
  error: { code: string; message: string },
): Compose {
  ownLog(deps, uuid, `compose failed: ${error.message} [${error.code}]`);
  return moveCompose(deps, uuid, 'FAILED', { error });
}

/** Removes a compose's row (with its log and artifact rows) and its artifact directory. */
export function removeCompose(deps: { store: Store; config: { artifactsDir: string } }, uuid: string): void {
  deps.store.composes.delete(uuid);
  rmSync(join(deps.config.artifactsDir, uuid), { recursive: true, force: true });
}
