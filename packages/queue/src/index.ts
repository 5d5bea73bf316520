export { checkRedisAccess } from './access.ts';
export { redisAclRules, redisAclUser } from './acl.ts';
export {
  type BuildJob,
  type BuildPlan,
  type BuildResult,
  buildJobSchema,
  buildPlanSchema,
  buildResultSchema,
  type JobError,
  type JobPayload,
  type JobResult,
  type JobResults,
  type JobType,
  jobIdOf,
  jobPayloadSchema,
  type Resources,
  resourcesSchema,
  type WorkerEvent,
  type WorkerInfo,
  type WorkerProcess,
  workerEventSchema,
} from './contracts.ts';
export {
  formatFailedReason,
  isRedisUnavailable,
  parseFailedReason,
  QueueError,
  QueueErrorCode,
} from './errors.ts';
export type { RedisState } from './health.ts';
export {
  DEFAULT_PREFIX,
  DEFAULT_QUEUE_NAME,
  maskRedisUrl,
  type QueueLocation,
  type RedisTlsFiles,
  redisAnswers,
  redisOptionsFromUrl,
  resolveLocation,
} from './options.ts';
export {
  DEFAULT_PRIORITY,
  fromBullPriority,
  MAX_PRIORITY,
  MIN_PRIORITY,
  toBullPriority,
} from './priority.ts';
export {
  ForgeQueue,
  type ForgeQueueOptions,
  type JobInfo,
  type JobOutcome,
  type JobStatus,
  type LostJob,
  type QueueEventMap,
  STALL_POLICY,
} from './queue.ts';
export { encodeJobName, fits, machineResources } from './resources.ts';
export {
  ForgeWorker,
  type ForgeWorkerOptions,
  type JobContext,
  type Processors,
} from './worker.ts';
