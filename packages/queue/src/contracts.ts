/**
 * Typed job contracts: what a producer (the API) puts in the queue and what a worker hands back.
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

/** Build one compose: run an OSBuild manifest and export the named pipelines as one artifact. */
export const buildJobSchema = z.strictObject({
  type: z.literal('build'),
  composeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'compose id: letters, digits, . _ -'),
  /** The OSBuild manifest (format version 2), as JSON. */
  manifest: z.record(z.string(), z.unknown()),
  exports: z.array(z.string().min(1)).min(1),
  imageType: z.string().min(1),
  /** File name of the artifact in the exported tree, e.g. `disk.qcow2`. */
  filename: z.string().min(1),
  checkpoints: z.array(z.string().min(1)).optional(),
  /** Forge priority: a higher number is taken first (see priority.ts). */
  priority: prioritySchema,
  resources: resourcesSchema,
});
export type BuildJob = z.infer<typeof buildJobSchema>;

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

/** The BullMQ job id of a payload: one job per compose, so a compose id finds (and cancels) its job. */
export function jobIdOf(payload: JobPayload): string {
  switch (payload.type) {
    case 'build':
      return `build-${payload.composeId}`;
  }
}
