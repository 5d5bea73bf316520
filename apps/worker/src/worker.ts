/**
 * `startWorker`: a ForgeWorker (packages/queue) whose build processor runs `forge build` (see
 * processor.ts), with its state in one directory:
 *   <stateDir>/store  the object store, shared by every job of this worker (sources, cached trees),
 *                     bounded (`cacheMaxSize`), least recently used objects evicted first
 *   <stateDir>/work/<pid>-<start time>   this process's job directories (manifest, exported tree),
 *                     each removed after its job
 *   <stateDir>/run    the engine's records of loop devices and mounts (--rundir)
 * Several worker processes may share a state directory (and so the store). At start a worker
 * releases what builds of dead worker processes left recorded (a worker killed with SIGKILL takes
 * its build down with it, see build.ts, but nothing releases that build's mounts until someone
 * reaps its record), then removes what those builds left in the store's write areas (store/stage,
 * store/tmp: a half-built tree can be hundreds of MB, which would otherwise stay until the next
 * build opens the store) and the work directories of dead worker processes.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type CacheSize,
  DEFAULT_CACHE_MAX_SIZE,
  type DeadWork,
  recordMaximumSize,
  releaseDeadEngines,
  removeDeadWork,
} from '@debian-forge/engine';
import { ownStartTime, processAlive, processIdentity } from '@debian-forge/host';
import {
  ForgeWorker,
  type ForgeWorkerOptions,
  type QueueLocation,
  type RedisTlsFiles,
  type Resources,
  redisOptionsFromUrl,
} from '@debian-forge/queue';
import { type Logger, pino } from 'pino';
import type { ApiTarget } from './api.ts';
import { WorkerError, WorkerErrorCode } from './errors.ts';
import { buildProcessor } from './processor.ts';

export interface WorkerOptions {
  /** Redis: a URL (`redis://[user:password@]host…`, `rediss://…`, `unix:///…`) or ioredis options. */
  redis: string | QueueLocation['redis'];
  /** With a `rediss://` URL: the CA, and a client certificate and key, as files. */
  redisTls?: RedisTlsFiles;
  prefix?: string;
  queueName?: string;
  /** Where artifacts go: the API's unix socket, or its URL with a bearer token. */
  api: ApiTarget;
  stateDir: string;
  name?: string;
  /** What this worker offers; what is left out is read from the machine. */
  resources?: Partial<Resources>;
  /** Builds at the same time (within the resources); default 1. */
  maxJobs?: number;
  /** Stages and runners (forge build --libdir); default the one forge finds. */
  libdir?: string;
  /**
   * Bound of the object store, recorded in it at start (as forge build --cache-max-size); without
   * it, what the store records, else DEFAULT_CACHE_MAX_SIZE: the service keeps the package layers
   * its plans checkpoint, as `forge compose` does.
   */
  cacheMaxSize?: CacheSize;
  /**
   * How to run `forge` (its `build` command), e.g. `[node, …/bin/forge.js]`: the worker does not
   * look for it; the CLI that starts a worker passes its own (apps/cli/src/self.ts).
   */
  forgeCommand: readonly string[];
  logger?: Logger;
  /** Between SIGTERM and SIGKILL when a build is cancelled; default 3000 ms. */
  terminateGraceMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  pollIntervalMs?: number;
  cancelPollMs?: number;
  /** Log Redis going away and coming back (default); off when the process reports it already. */
  reportRedis?: boolean;
}

export interface RunningWorker {
  name: string;
  resources: Resources;
  forgeWorker: ForgeWorker;
  /** What builds that died had left in the store, removed at start (`deadWorkLine` says it). */
  removedAtStart: DeadWork;
  /** Stops taking jobs and waits for the running ones; `force` cancels them (their processes are killed). */
  close(force?: boolean): Promise<void>;
}

/** What a worker's start removed from its store, in one line: how much, and which directories. */
export function deadWorkLine(storeDir: string, left: DeadWork): string {
  const shown = left.removed.slice(0, 10).join(', ');
  const more = left.removed.length > 10 ? ` and ${left.removed.length - 10} more` : '';
  const mb = (left.bytes / 1e6).toFixed(1);
  return `removed ${left.removed.length} work directories of dead builds (${mb} MB) from ${storeDir}: ${shown}${more}`;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  if (!options.api.socket && !options.api.url) {
    throw new WorkerError(WorkerErrorCode.CONFIG, 'the worker needs the API: a unix socket or a URL');
  }
  const redis =
    typeof options.redis === 'string' ? redisOptionsFromUrl(options.redis, options.redisTls) : options.redis;
  const logger = options.logger ?? pino({ name: 'forge-worker', level: 'info' }, pino.destination(2));
  const stateDir = resolve(options.stateDir);
  const storeDir = join(stateDir, 'store');
  const workRoot = join(stateDir, 'work');
  const workDir = join(workRoot, `${process.pid}-${ownStartTime()}`);
  const rundir = join(stateDir, 'run');
  await Promise.all([storeDir, workDir, rundir].map((d) => mkdir(d, { recursive: true })));
  if (options.cacheMaxSize !== undefined) recordMaximumSize(storeDir, options.cacheMaxSize);
  else recordMaximumSize(storeDir, DEFAULT_CACHE_MAX_SIZE, { keep: true });
  await releaseDeadEngines(rundir, { log: (line) => logger.info(line) });
  const left = await removeDeadWork(storeDir);
  if (left.removed.length > 0) logger.info(deadWorkLine(storeDir, left));
  for (const name of await readdir(workRoot)) {
    const owner = /^(\d+)-(\d+)$/.exec(name);
    if (owner && !processAlive(Number(owner[1]), owner[2] as string)) {
      logger.info(`removing ${name}, the work directory of a dead worker`);
      await rm(join(workRoot, name), { recursive: true, force: true });
    }
  }

  const workerOptions: ForgeWorkerOptions = {
    redis,
    prefix: options.prefix,
    queueName: options.queueName,
    name: options.name,
    // Announced, so that the API on this machine knows at once when this process has died.
    process: processIdentity(),
    resources: options.resources,
    workDir: stateDir,
    maxJobs: options.maxJobs,
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    pollIntervalMs: options.pollIntervalMs,
    cancelPollMs: options.cancelPollMs,
    onJobRefused: (jobId, reason) => logger.warn({ job: jobId, reason }, 'job refused: not built'),
    processors: {
      build: buildProcessor({
        forgeCommand: options.forgeCommand,
        storeDir,
        workDir,
        rundir,
        libdir: options.libdir,
        api: options.api,
        logger,
        terminateGraceMs: options.terminateGraceMs,
      }),
    },
  };
  const forgeWorker = await ForgeWorker.start(workerOptions);
  forgeWorker.onError((err) => logger.warn({ err }, 'queue trouble'));
  if (options.reportRedis !== false) {
    forgeWorker.onRedis((state) =>
      state.reachable
        ? logger.info('Redis is reachable again')
        : logger.warn(
            `Redis is unreachable (${state.error ?? 'no answer'}): no job is taken until it is back`,
          ),
    );
  }
  logger.info({ name: forgeWorker.name, resources: forgeWorker.resources, stateDir }, 'worker started');
  return {
    name: forgeWorker.name,
    resources: forgeWorker.resources,
    forgeWorker,
    removedAtStart: left,
    close: async (force = false) => {
      await forgeWorker.close(force);
      logger.info({ name: forgeWorker.name }, 'worker stopped');
    },
  };
}
