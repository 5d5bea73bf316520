/**
 * Weldr's test composes (`?test=1` FAILED, `?test=2` COMPLETED with a small fake image): recorded
 * and planned as a build is, never queued; the fake image takes the path of a worker's upload.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Compose } from '@debian-forge/store';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import { keepArtifact } from './compose-artifacts.ts';
import type { ComposeContext } from './compose-context.ts';
import { ComposePlanError } from './compose-errors.ts';
import { plan, TEST_COMPOSE_LINE } from './compose-planning.ts';
import { failCompose, moveCompose, mustGetCompose, ownLog, removeCompose } from './compose-rows.ts';
import { recordCompose } from './compose-start.ts';
import type { ComposeRequest } from './composes.ts';

/** The bytes of the fake image of a `?test=2` compose. */
export function fakeImage(uuid: string): Buffer {
  return Buffer.from(`Debian Forge test compose ${uuid}: not an image\n`);
}

/** `submitFake` of the service (see ComposeService in composes.ts). */
export async function submitFake(
  ctx: ComposeContext,
  request: ComposeRequest,
  outcome: 'fail' | 'finish',
): Promise<Compose> {
  const { compose, target } = recordCompose(ctx, request, false); // never queued: works while Redis is away
  const { uuid } = compose;
  ownLog(ctx, uuid, TEST_COMPOSE_LINE);
  const made = await plan(ctx, compose, target, async () => 'made');
  if (typeof made === 'object') {
    removeCompose(ctx, uuid); // as `submit` does: the request is refused, nothing kept
    throw new ComposePlanError(made.failed);
  }
  if (made === 'gone') return mustGetCompose(ctx.store, uuid); // cancelled meanwhile
  moveCompose(ctx, uuid, 'QUEUED');
  if (outcome === 'fail') {
    return failCompose(ctx, uuid, {
      code: ComposeErrorCode.TestCompose,
      message: 'a test compose that fails (?test=1)',
    });
  }
  const building = moveCompose(ctx, uuid, 'BUILDING');
  const bytes = fakeImage(uuid);
  const upload = {
    // The artifact a build of this plan would upload.
    filename: building.build?.artifact.filename ?? 'image',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    body: Readable.from([bytes]),
  };
  try {
    await keepArtifact(ctx, building, upload, () => {});
  } catch (err) {
    // As a build whose image cannot be stored: FAILED with the reason, and a 5xx. If even the
    // database is full, the compose stays BUILDING until a restart's reconciliation (no job);
    // the answer says what failed first.
    const fault = err as ApiError;
    throw new ApiError(fault.status, fault.code, `${fault.message} (compose ${uuid} FAILED)`);
  }
  ownLog(ctx, uuid, 'a test compose that finishes with a fake image (?test=2)');
  return moveCompose(ctx, uuid, 'COMPLETED');
}
