/**
 * Error codes of the worker. A processor that throws an error with a `FORGE_ERR_*` code fails its
 * job with `CODE: message` (packages/queue), which the API turns into the compose's FAILED reason.
 */
import { CodedError, type CodeOf, CommonErrorCode } from '@debian-forge/errors';
import { ManifestErrorCode } from '@debian-forge/manifest';
import { QueueErrorCode } from '@debian-forge/queue';

export const WorkerErrorCode = {
  /** `forge build` ran and failed: a stage, a source, or the engine. */
  BUILD_FAILED: 'FORGE_ERR_BUILD_FAILED',
  /** `forge build` refused the manifest (exit status 2): the manifest package's code. */
  INVALID_MANIFEST: ManifestErrorCode.Invalid,
  /** The build succeeded but the exported tree lacks the job's file: the queue's code. */
  ARTIFACT_MISSING: QueueErrorCode.ARTIFACT_MISSING,
  /** The API refused the artifact (`FORGE_ERR_UPLOAD` is the API's: a broken upload it was sent). */
  UPLOAD_REFUSED: 'FORGE_ERR_UPLOAD_REFUSED',
  /** The API did not serve the plan of a job (it did not queue it, or does not let the worker ask):
   *  the job is failed unbuilt. */
  PLAN_REFUSED: 'FORGE_ERR_PLAN_REFUSED',
  /** The worker's configuration is incomplete or wrong. */
  CONFIG: CommonErrorCode.Config,
} as const;
export type WorkerErrorCode = CodeOf<typeof WorkerErrorCode>;

export class WorkerError extends CodedError<WorkerErrorCode> {
  override readonly name = 'WorkerError';
}
