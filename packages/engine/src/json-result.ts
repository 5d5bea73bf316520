/**
 * What `forge build --json` prints on standard output, in OSBuild's shapes: the result object of a
 * build (`osbuild/formats/v2.py`, `output`: success with the pipelines' metadata, or the failing
 * stage or source), or the validation errors of a manifest that does not validate
 * (`ValidationResult.as_dict()`, exit status 2). The CLI writes it with `jsonResult`; the worker,
 * which runs `forge build --json`, reads it with `readBuildOutput` to say why a build failed. One
 * schema for both, so neither guesses at the other's fields.
 */
import { type Manifest, VALIDATION_ERROR_TYPE, type ValidationErrorDocument } from '@debian-forge/manifest';
import { z } from 'zod';
import type { BuildResult } from './build.ts';

/** A stage of the log: its output, and `success: false` with the error when it failed. */
const stageLogSchema = z.object({
  id: z.string(),
  type: z.string(),
  output: z.string(),
  success: z.literal(false).optional(),
  error: z.unknown().optional(),
});

const sourceItemSchema = z.object({
  cached: z.boolean(),
  checksum: z.string(),
  error: z.string().optional(),
});

/** What a success and a failure both carry. */
const runSchema = {
  /** `success` of every source, and each source type's items. */
  sources: z.record(z.string(), z.union([z.boolean(), z.array(sourceItemSchema)])),
  /** Each pipeline built in this run, by name: its stages. */
  log: z.record(z.string(), z.array(stageLogSchema)),
};

const stageErrorSchema = z.object({
  type: z.literal('org.osbuild.error.stage'),
  details: z.object({
    stage: z.object({
      id: z.string().nullable(),
      type: z.string().nullable(),
      output: z.string(),
      error: z.unknown(),
    }),
  }),
});

const sourceErrorSchema = z.object({
  type: z.literal('org.osbuild.error.source'),
  details: z.object({ source: z.object({ type: z.string(), output: z.string() }) }),
});

const succeededSchema = z.object({
  type: z.literal('result'),
  success: z.literal(true),
  /** Per pipeline name, per stage type. */
  metadata: z.record(z.string(), z.record(z.string(), z.unknown())),
  ...runSchema,
});

const failedSchema = z.object({
  type: z.literal('error'),
  success: z.literal(false),
  error: z.discriminatedUnion('type', [stageErrorSchema, sourceErrorSchema]),
  ...runSchema,
});

/** The validation errors of a manifest, as packages/manifest serialises them. */
const invalidSchema = z.object({
  type: z.literal(VALIDATION_ERROR_TYPE),
  title: z.string(),
  success: z.literal(false),
  errors: z.array(z.object({ message: z.string(), path: z.array(z.union([z.string(), z.number()])) })),
}) satisfies z.ZodType<ValidationErrorDocument>;

const buildOutputSchema = z.discriminatedUnion('type', [succeededSchema, failedSchema, invalidSchema]);

/** What `forge build --json` prints. */
export type BuildOutput = z.infer<typeof buildOutputSchema>;

/** The result object of a build that ran. */
export type BuildResultJson = z.infer<typeof succeededSchema> | z.infer<typeof failedSchema>;

/** The result object of `r`, a build of `manifest`. */
export function jsonResult(manifest: Manifest, r: BuildResult): BuildResultJson {
  const sources: BuildResultJson['sources'] = { success: r.sources.every((s) => s.success) };
  for (const s of r.sources) {
    sources[s.type] = s.items.map((i) => ({
      cached: i.cached,
      checksum: i.checksum,
      ...(i.error ? { error: i.error } : {}),
    }));
  }
  const log: BuildResultJson['log'] = {};
  for (const p of manifest.pipelines) {
    const run = r.pipelines.find((x) => x.name === p.name);
    if (!run || run.stages.length === 0) continue;
    log[p.name] = run.stages.map((s) => ({
      id: s.id,
      type: s.name,
      output: s.output,
      ...(s.success ? {} : { success: false as const, ...(s.error ? { error: s.error } : {}) }),
    }));
  }
  if (r.success) return { type: 'result', success: true, metadata: r.metadata, sources, log };
  return { type: 'error', success: false, error: buildError(r), sources, log };
}

/** Why a build failed: its first failing source, else the last stage it ran. */
function buildError(r: BuildResult): z.infer<typeof failedSchema>['error'] {
  const failedSource = r.sources.find((s) => !s.success);
  if (failedSource) {
    const item = failedSource.items.find((i) => i.error);
    return {
      type: 'org.osbuild.error.source',
      details: {
        source: { type: failedSource.type, output: item?.error ?? 'cannot find failing source item' },
      },
    };
  }
  const lastRun = r.pipelines[r.pipelines.length - 1];
  const failedStage = lastRun?.stages[lastRun.stages.length - 1];
  return {
    type: 'org.osbuild.error.stage',
    details: {
      stage: {
        id: failedStage?.id ?? null,
        type: failedStage?.name ?? null,
        output: failedStage?.output ?? '',
        error: failedStage?.error ?? null,
      },
    },
  };
}

/**
 * What `forge build --json` printed on `stdout` (its last line: the one JSON document), or
 * undefined when that is not one of its documents (the engine failed before it could print one,
 * or another program answered); the caller then reads standard error.
 */
export function readBuildOutput(stdout: string): BuildOutput | undefined {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return undefined;
  }
  const parsed = buildOutputSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
