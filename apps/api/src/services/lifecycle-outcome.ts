/**
 * What the outcome of a compose's job does to the compose: `active` moves it to BUILDING; a
 * success with the artifact uploaded (the store has it, same sha256) ends it COMPLETED, without it
 * FAILED (`FORGE_ERR_ARTIFACT_MISSING`, or the worker's error), with the OSTree commit the build
 * made when it made one (the queue's contract let only a checksum through), which is then published
 * in the service's OSTree repository (off this line: a publication that fails is reported there and
 * leaves the compose COMPLETED); a failure ends it FAILED with the reason, or CANCELLED when the job
 * was cancelled.
 */
import { type BuildResult, type JobError, QueueErrorCode } from '@debian-forge/queue';
import type { Compose, Store } from '@debian-forge/store';
import type { ComposeEvents } from '../events.ts';
import { failCompose, moveCompose } from './compose-rows.ts';
import type { OstreeRepo } from './ostree-repo.ts';

type Deps = { store: Store; events: ComposeEvents };

/** How a job ended: its result, or the error it failed with. */
export type JobOutcome = { result?: BuildResult; error?: JobError };

/** Whether a compose waits for its job's outcome (QUEUED or BUILDING). */
export function isActive(compose: Compose | undefined): compose is Compose {
  return compose !== undefined && (compose.state === 'QUEUED' || compose.state === 'BUILDING');
}

/** A QUEUED compose moved to BUILDING (by `worker`, when known); any other as it is. */
export function toBuilding(deps: Deps, compose: Compose, worker?: string): Compose {
  return compose.state === 'QUEUED'
    ? moveCompose(deps, compose.uuid, 'BUILDING', worker ? { workerId: worker } : {})
    : compose;
}

/** The outcome of a finished job as the queue tells it (a failure without its error: the job failed). */
export function outcomeOf(info: JobOutcome): JobOutcome {
  return info.result
    ? { result: info.result }
    : { error: info.error ?? { code: QueueErrorCode.JOB_FAILED, message: '' } };
}

/** Ends a QUEUED or BUILDING compose as its job ended (see the top); another is left alone. */
export function finish(deps: Deps & { ostree: OstreeRepo }, compose: Compose, outcome: JobOutcome): void {
  if (!isActive(compose)) return;
  const { uuid } = compose;
  if (outcome.error) {
    if (outcome.error.code === QueueErrorCode.CANCELLED) {
      moveCompose(deps, uuid, 'CANCELLED', { error: outcome.error });
      return;
    }
    failCompose(deps, uuid, outcome.error);
    return;
  }
  const result = outcome.result as BuildResult;
  const built = toBuilding(deps, compose);
  if (!result.success) {
    const error = result.error ?? { code: QueueErrorCode.JOB_FAILED, message: 'the build failed' };
    failCompose(deps, built.uuid, error);
    return;
  }
  const want = result.artifact;
  const have = want ? deps.store.artifacts.get(uuid, want.filename) : undefined;
  if (!want || !have || have.sha256 !== want.sha256) {
    failCompose(deps, uuid, {
      code: QueueErrorCode.ARTIFACT_MISSING,
      message: want
        ? `the worker reported ${want.filename} (sha256 ${want.sha256}) but the API has ${have ? `sha256 ${have.sha256}` : 'no such upload'}`
        : 'the worker reported success without an artifact',
    });
    return;
  }
  if (!result.ostreeCommit) {
    moveCompose(deps, uuid, 'COMPLETED', {});
    return;
  }
  const done = moveCompose(deps, uuid, 'COMPLETED', { ostreeCommit: result.ostreeCommit });
  void deps.ostree.publish(done);
}
