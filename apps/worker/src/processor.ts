/**
 * The build processor: one job from the queue → the manifest written to a work directory of its
 * own → `forge build` against the worker's shared object store (runBuild) with progress and log
 * lines sent through the job → the artifact streamed to the API → the BuildResult. The work
 * directory is removed at the end, whatever happened.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { BuildJob, BuildResult, JobContext } from '@debian-forge/queue';
import type { Logger } from 'pino';
import { runBuild } from './build.ts';
import { WorkerError, WorkerErrorCode } from './errors.ts';
import type { BuildEvent } from './monitor-stream.ts';
import { type ApiTarget, uploadArtifact } from './upload.ts';

export interface BuildProcessorOptions {
  forgeCommand: string[];
  /** The object store shared by every job of this worker (sources and cached trees). */
  storeDir: string;
  /** Parent of each job's work directory. */
  workDir: string;
  rundir: string;
  libdir?: string;
  cacheMaxSize?: string;
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

/** The artifact inside the exported tree; a name that leaves the tree is refused. */
function artifactPath(outputDirectory: string, job: BuildJob): string {
  const tree = join(outputDirectory, job.exports[0] as string);
  const file = resolve(tree, job.filename);
  if (relative(tree, file).split(sep).includes('..') || file === tree) {
    throw new WorkerError(
      WorkerErrorCode.ARTIFACT_MISSING,
      `file name ${job.filename} leaves the exported tree`,
    );
  }
  return file;
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
    const report = reporter(ctx, log);
    await mkdir(opts.workDir, { recursive: true });
    const dir = await mkdtemp(join(opts.workDir, `${job.composeId}-`));
    try {
      const manifestPath = join(dir, 'manifest.json');
      const outputDirectory = join(dir, 'output');
      await writeFile(manifestPath, JSON.stringify(job.manifest));
      log.info({ exports: job.exports, imageType: job.imageType }, 'build starts');
      const outcome = await runBuild({
        forgeCommand: opts.forgeCommand,
        manifestPath,
        outputDirectory,
        storeDir: opts.storeDir,
        rundir: opts.rundir,
        exports: job.exports,
        checkpoints: job.checkpoints,
        libdir: opts.libdir,
        cacheMaxSize: opts.cacheMaxSize,
        signal: ctx.signal,
        onEvent: report.event,
        terminateGraceMs: opts.terminateGraceMs,
      });
      if (outcome.status === 'cancelled') {
        log.info('build cancelled; its processes are gone and its mounts released');
        throw new Error('cancelled');
      }
      const file = artifactPath(outputDirectory, job);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) {
        const tree = join(outputDirectory, job.exports[0] as string);
        throw new WorkerError(
          WorkerErrorCode.ARTIFACT_MISSING,
          `the build exported no file ${job.filename} (${tree} has ${await listing(tree)})`,
        );
      }
      const filename = basename(file);
      report.log(`uploading ${filename} (${info.size} bytes)`);
      const artifact = await uploadArtifact(opts.api, job.composeId, filename, file, {
        signal: ctx.signal,
        log: report.log,
      });
      report.log(`uploaded ${filename}: sha256 ${artifact.sha256}`);
      log.info({ artifact }, 'build done');
      return { success: true, artifact };
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
