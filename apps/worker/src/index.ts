export type { ApiTarget } from './api.ts';
export { DEFAULT_WORK_DIR, workerOptionsFromEnv } from './config.ts';
export { WorkerError, WorkerErrorCode } from './errors.ts';
export { type BuildEvent, MonitorStream } from './monitor-stream.ts';
export { type UploadedArtifact, uploadArtifact } from './upload.ts';
export {
  deadWorkLine,
  type RunningWorker,
  startWorker,
  type WorkerOptions,
} from './worker.ts';
