/**
 * Typed job contracts: what a producer (the API) puts in the queue, what a worker hands back and
 * how a worker announces itself (WorkerInfo) to the supervisor.
 * Payloads and results are validated with zod when a job is enqueued and again when a worker takes
 * it, so a job written by an older or foreign producer fails with FORGE_ERR_INVALID_JOB instead of
 * reaching a processor half-formed.
 */
import { z } from 'zod';
import { MAX_PRIORITY, MIN_PRIORITY } from './priority.ts';

/** What a job needs from the machine that runs it; a worker takes only jobs that fit what it has. */
export const resourcesSchema = z.strictObject({
  cpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  diskGiB: z.number().int().positive(),
});
export type Resources = z.infer<typeof resourcesSchema>;

const prioritySchema = z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY);

const composeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'compose id: letters, digits, . _ -');

/**
 * Build one compose. The job names the compose and nothing of what to build: anyone who can write
 * to Redis can write a job, and a worker runs what it builds as root, so the worker asks the API
 * for the compose's plan (`buildPlanSchema`) over its authenticated HTTP channel and builds that
 * alone. Priority and resources are here because scheduling happens in Redis; a lie in them can
 * only reorder the queue.
 */
export const buildJobSchema = z.strictObject({
  type: z.literal('build'),
  composeId: composeIdSchema,
  /** Forge priority: a higher number is taken first (see priority.ts). */
  priority: prioritySchema,
  resources: resourcesSchema,
});
export type BuildJob = z.infer<typeof buildJobSchema>;

/** A package of a compose's image as apt resolved it (packages/composer's PlannedPackage). */
export const plannedPackageSchema = z.strictObject({
  name: z.string().min(1),
  epoch: z.number().int().nonnegative(),
  version: z.string(),
  release: z.string(),
  arch: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  repository: z.string(),
  url: z.string(),
});

/**
 * What a worker builds for a build job, as the API serves it at
 * `GET /api/forge/v1/composes/{compose_id}/plan?job={job_id}` from its own database, only while the
 * compose is QUEUED or BUILDING with that job: the compose's build plan (packages/composer's
 * ComposePlan) as the API stored it — the OSBuild manifest, the pipelines to export, the artifact
 * in the first export, the pipelines to keep in the object store, and the packages of each layer.
 */
/** A package built from one of the blueprint's source packages (packages/composer's BuiltPackage). */
export const builtPackageSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1),
  arch: z.string().min(1),
  source: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }),
});

export const buildPlanSchema = z.strictObject({
  compose_id: composeIdSchema,
  job_id: z.string().min(1).describe('the job the plan is for'),
  image_type: z.string().min(1),
  manifest: z.record(z.string(), z.unknown()).describe('the OSBuild manifest (format version 2)'),
  exports: z.array(z.string().min(1)).min(1).describe('pipelines to export (forge build --export)'),
  artifact: z
    .strictObject({ filename: z.string().min(1), mimeType: z.string().min(1) })
    .describe('the image: its file name in the first exported tree, and its MIME type'),
  checkpoints: z
    .array(z.string().min(1))
    .describe('pipelines whose trees the worker keeps in its object store (forge build --checkpoint)'),
  layers: z
    .array(z.array(plannedPackageSchema))
    .describe('the packages of each layer as apt resolved them (none for a raw manifest)'),
  built: z
    .array(builtPackageSchema)
    .optional()
    .describe("the packages built from the blueprint's source packages and installed into the image"),
});
export type BuildPlan = z.infer<typeof buildPlanSchema>;

/** Every job payload, discriminated by `type`. Add a member here and the compiler finds every switch. */
export const jobPayloadSchema = z.discriminatedUnion('type', [buildJobSchema]);
export type JobPayload = z.infer<typeof jobPayloadSchema>;
export type JobType = JobPayload['type'];

export const jobErrorSchema = z.strictObject({
  code: z.string().min(1),
  message: z.string(),
});
export type JobError = z.infer<typeof jobErrorSchema>;

export const buildResultSchema = z.strictObject({
  success: z.boolean(),
  artifact: z
    .strictObject({
      filename: z.string().min(1),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .optional(),
  /**
   * The OSTree commit the build made (the org.osbuild.ostree.commit stage's metadata), for the
   * atomic types: what the next version of the ref takes as its parent. Only a checksum passes.
   */
  ostreeCommit: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'ostree commit: 64 hexadecimal digits')
    .optional(),
  error: jobErrorSchema.optional(),
});
export type BuildResult = z.infer<typeof buildResultSchema>;

/** The result each job type returns. */
export interface JobResults {
  build: BuildResult;
}
export type JobResult = JobResults[JobType];

export const resultSchemas: { [T in JobType]: z.ZodType<JobResults[T]> } = {
  build: buildResultSchema,
};

/**
 * What a worker sends while it works, carried by BullMQ job progress (QueueEvents `progress`):
 * progress of the build (stage n of m) and log lines. Log lines are also kept in the job's log.
 */
export const workerEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('progress'),
    done: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    message: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('log'), line: z.string() }),
]);
export type WorkerEvent = z.infer<typeof workerEventSchema>;

/**
 * The process a worker runs in, as the host layer's `processIdentity()` describes it: host name, boot
 * id, pid namespace, pid and start time. A supervisor on the same machine can tell from it at once
 * that the worker died (ForgeQueue.failJobsOfDeadWorkers), without waiting for its heartbeats to
 * stop.
 */
export interface WorkerProcess {
  host: string;
  bootId: string;
  pidNamespace: string;
  pid: number;
  startTime: string;
}

/** A live worker as it announces itself (see ForgeQueue.listWorkers). */
export interface WorkerInfo {
  name: string;
  resources: Resources;
  free: Resources;
  activeJobs: string[];
  /** When it last announced itself (ms since the epoch). */
  seenAt: number;
  /** Its process, when it said. */
  process?: WorkerProcess;
}

/** The BullMQ job id of a payload: one job per compose, so a compose id finds (and cancels) its job. */
export function jobIdOf(payload: JobPayload): string {
  switch (payload.type) {
    case 'build':
      return `build-${payload.composeId}`;
  }
}
