/**
 * Error codes of the worker. A processor that throws an error with a `FORGE_ERR_*` code fails its
 * job with `CODE: message` (packages/queue), which the API turns into the compose's FAILED reason.
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const WorkerErrorCode = {
  /** `forge build` ran and failed: a stage, a source, or the engine. */
  BUILD_FAILED: 'FORGE_ERR_BUILD_FAILED',
  /** `forge build` refused the manifest (exit status 2). */
  INVALID_MANIFEST: 'FORGE_ERR_INVALID_MANIFEST',
  /** The build succeeded but the exported tree lacks the job's file. */
  ARTIFACT_MISSING: 'FORGE_ERR_ARTIFACT_MISSING',
  /** The API did not take the artifact. */
  UPLOAD: 'FORGE_ERR_UPLOAD',
  /** The API did not serve the plan of a job (it did not queue it, or does not let the worker ask):
   *  the job is failed unbuilt. */
  PLAN_REFUSED: 'FORGE_ERR_PLAN_REFUSED',
  /** The worker's configuration is incomplete or wrong. */
  CONFIG: 'FORGE_ERR_CONFIG',
} as const;
export type WorkerErrorCode = CodeOf<typeof WorkerErrorCode>;

export class WorkerError extends CodedError<WorkerErrorCode> {
  override readonly name = 'WorkerError';
}
