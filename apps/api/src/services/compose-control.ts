/**
 * What a client asks of a compose it has started: cancel it, change a waiting compose's priority,
 * delete a finished one (and withdraw its OSTree commit from the service's repository).
 */
import { QueueErrorCode } from '@debian-forge/queue';
import type { Compose } from '@debian-forge/store';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import type { ComposeContext } from './compose-context.ts';
import { checkPriority } from './compose-requests.ts';
import { moveCompose, mustGetCompose, ownLog, removeCompose, TERMINAL } from './compose-rows.ts';

/** `cancel` of the service (see ComposeService in composes.ts). */
export async function cancel(ctx: ComposeContext, id: string): Promise<Compose> {
  const compose = mustGetCompose(ctx.store, id);
  const { uuid } = compose; // the stored form of an id given in another case
  if (TERMINAL.includes(compose.state)) {
    throw ApiError.of(ComposeErrorCode.WrongState, `compose ${uuid} is ${compose.state}: nothing to cancel`);
  }
  if (compose.state !== 'PENDING') {
    const outcome = await ctx.queue.cancel(compose.jobId ?? `build-${uuid}`);
    const now = mustGetCompose(ctx.store, uuid);
    if (outcome === 'finished' || TERMINAL.includes(now.state)) {
      throw ApiError.of(ComposeErrorCode.WrongState, `compose ${uuid} has finished meanwhile`);
    }
  }
  const error = { code: QueueErrorCode.CANCELLED, message: 'cancelled on request' };
  ownLog(ctx, uuid, 'compose cancelled');
  return moveCompose(ctx, uuid, 'CANCELLED', { error });
}

/** `delete` of the service (see ComposeService in composes.ts). */
export async function deleteCompose(ctx: ComposeContext, id: string): Promise<void> {
  const compose = mustGetCompose(ctx.store, id);
  const { uuid } = compose; // the stored form of an id given in another case
  if (!TERMINAL.includes(compose.state)) {
    throw ApiError.of(ComposeErrorCode.WrongState, `compose ${uuid} is ${compose.state}, not finished`);
  }
  removeCompose(ctx, uuid);
  // Answered once the repository no longer serves its commit (the ref moved back, or gone).
  if (compose.ostree.commit) await ctx.ostree.withdraw(compose);
}

/** `setPriority` of the service (see ComposeService in composes.ts). */
export async function setPriority(ctx: ComposeContext, id: string, priority: number): Promise<Compose> {
  const p = checkPriority(priority);
  const compose = mustGetCompose(ctx.store, id);
  const { uuid } = compose;
  if (compose.state !== 'PENDING' && compose.state !== 'QUEUED') {
    throw ApiError.of(
      ComposeErrorCode.WrongState,
      `compose ${uuid} is ${compose.state}: only a waiting compose's priority can change`,
    );
  }
  // The queue first: while Redis is away the request fails and the store keeps the old value.
  if (compose.state === 'QUEUED' && compose.jobId) await ctx.queue.setPriority(compose.jobId, p);
  ctx.store.composes.setPriority(uuid, p);
  return mustGetCompose(ctx.store, uuid);
}
