/**
 * The build processor: one job from the queue → its plan from the API (plan.ts; the job names only
 * the compose, and a job the API did not queue is failed here, before anything is written) → the
 * manifest written to a work directory of its own → `forge build` against the worker's shared
 * object store (runBuild) with progress and log lines sent through the job → the artifact streamed
 * to the API → the BuildResult, with the OSTree commit the build made if it made one. The work
 * directory is removed at the end, whatever happened.
 */
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ostreeCommitOf } from '@debian-forge/engine';
import { joinInside } from '@debian-forge/manifest';
import type { BuildJob, BuildPlan, BuildResult, JobContext } from '@debian-forge/queue';
import type { Logger } from 'pino';
import type { ApiTarget } from './api.ts';
import { runBuild } from './build.ts';
import { WorkerError, WorkerErrorCode } from './errors.ts';
import type { BuildEvent } from './monitor-stream.ts';
import { fetchPlan } from './plan.ts';
import { uploadArtifact } from './upload.ts';

export interface BuildProcessorOptions {
  forgeCommand: readonly string[];
  /** The object store shared by every job of this worker (sources and cached trees). */
  storeDir: string;
  /** Parent of each job's work directory. */
  workDir: string;
  rundir: string;
  libdir?: string;
  api: ApiTarget;
  logger: Logger;
  terminateGraceMs?: number;
}

/**
 * Sends progress and log lines in the order they came, one at a time, without holding up the
 * build's output; `flush` waits for what is queued. A failed send is logged and the rest go on.
 */
function reporter(ctx: JobContext<BuildJob>, logger: Logger) {
  let chain = Promise.resolve();
  const send = (what: () => Promise<void>) => {
    chain = chain.then(what).catch((err) => logger.warn({ err, job: ctx.jobId }, 'could not report'));
  };
  return {
    event(e: BuildEvent) {
      if (e.kind === 'log') send(() => ctx.log(e.line));
      else send(() => ctx.progress(e.done, e.total, e.message));
    },
    log(line: string) {
      send(() => ctx.log(line));
    },
    flush: () => chain,
  };
}

/**
 * The artifact: the file `filename` of the first export, or undefined when the build exported no
 * such regular file. Both names go through the one name checker, and no symbolic link may lead out
 * of the export: a build can make `image` a link to /etc/shadow in its tree, and the worker runs as
 * root. The refusal is the checker's ManifestError (FORGE_ERR_UNSAFE_NAME, FORGE_ERR_PATH_OUTSIDE),
 * which fails the job with its code.
 */
async function artifactFile(
  outputDirectory: string,
  plan: BuildPlan,
): Promise<{ file: string; size: number } | undefined> {
  let file: string;
  try {
    const tree = joinInside(outputDirectory, plan.exports[0] as string, { what: 'export' });
    file = joinInside(tree, plan.artifact.filename, { what: 'artifact file' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // nothing exported
    throw err;
  }
  // A link inside the export was resolved by joinInside; what is left must be a file itself.
  const info = await lstat(file).catch(() => undefined);
  return info?.isFile() ? { file, size: info.size } : undefined;
}

async function listing(dir: string): Promise<string> {
  try {
    return (await readdir(dir)).slice(0, 20).join(', ') || 'nothing';
  } catch {
    return 'nothing';
  }
}

export function buildProcessor(opts: BuildProcessorOptions) {
  return async (ctx: JobContext<BuildJob>): Promise<BuildResult> => {
    const job = ctx.payload;
    const log = opts.logger.child({ job: ctx.jobId, compose: job.composeId });
    let plan: BuildPlan;
    try {
      plan = await fetchPlan(opts.api, job.composeId, ctx.jobId, {
        signal: ctx.signal,
        log: (line) => log.warn(line),
      });
    } catch (err) {
      // Nothing of it reaches the job's log: that is for the compose the API queued, and this job
      // may name a compose it did not.
      if (!ctx.signal.aborted) log.warn({ err }, 'job refused: the API serves no plan for it, not built');
      throw err;
    }
    const report = reporter(ctx, log);
    await mkdir(opts.workDir, { recursive: true });
    const dir = await mkdtemp(join(opts.workDir, `${job.composeId}-`));
    try {
      const manifestPath = join(dir, 'manifest.json');
      const outputDirectory = join(dir, 'output');
      await writeFile(manifestPath, JSON.stringify(plan.manifest));
      log.info({ exports: plan.exports, imageType: plan.image_type }, 'build starts');
      const outcome = await runBuild({
        forgeCommand: opts.forgeCommand,
        manifestPath,
        outputDirectory,
        storeDir: opts.storeDir,
        rundir: opts.rundir,
        exports: plan.exports,
        checkpoints: plan.checkpoints,
        libdir: opts.libdir,
        signal: ctx.signal,
        onEvent: report.event,
        terminateGraceMs: opts.terminateGraceMs,
      });
      if (outcome.status === 'cancelled') {
        log.info('build cancelled; its processes are gone and its mounts released');
        throw new Error('cancelled');
      }
      const artifactOnDisk = await artifactFile(outputDirectory, plan);
      if (!artifactOnDisk) {
        const tree = join(outputDirectory, plan.exports[0] as string);
        throw new WorkerError(
          WorkerErrorCode.ARTIFACT_MISSING,
          `the build exported no file ${plan.artifact.filename} (${tree} has ${await listing(tree)})`,
        );
      }
      const { file, size } = artifactOnDisk;
      const { filename } = plan.artifact;
      report.log(`uploading ${filename} (${size} bytes)`);
      const artifact = await uploadArtifact(opts.api, job.composeId, filename, file, {
        signal: ctx.signal,
        log: report.log,
      });
      report.log(`uploaded ${filename}: sha256 ${artifact.sha256}`);
      const ostreeCommit = ostreeCommitOf(outcome.metadata)?.id;
      if (ostreeCommit) report.log(`ostree commit ${ostreeCommit}`);
      log.info({ artifact, ostreeCommit }, 'build done');
      return { success: true, artifact, ...(ostreeCommit ? { ostreeCommit } : {}) };
    } catch (err) {
      if (!ctx.signal.aborted) log.warn({ err }, 'build failed');
      throw err;
    } finally {
      await report.flush();
      await rm(dir, { recursive: true, force: true }).catch((err) =>
        log.warn({ err, dir }, 'could not remove the work directory'),
      );
    }
  };
}
