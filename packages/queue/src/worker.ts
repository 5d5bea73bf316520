/**
 * The worker side: take the most urgent job that fits this machine, run its processor with an
 * AbortSignal, report progress and log lines, keep the job's lock alive, and finish it.
 *
 * How a worker chooses (a manual fetch loop, not BullMQ's own run loop): BullMQ hands out only the
 * job at the head of the queue, and has no notion of resources. A worker that cannot run the head
 * job must still be able to take a smaller job behind it, and the head job must stay queued for a
 * worker big enough (or forever, if none is). So each round the worker
 *   1. peeks at the first PEEK_DEPTH waiting job ids in the order BullMQ would hand them out and
 *      reads their resource requests from the job names (`build 4c 8192m 20g`, no payloads);
 *      when none of them fits, it reads SCAN_DEPTH more further down, from where the last such
 *      search stopped, so a long queue is searched a slice per round, never whole in one;
 *   2. picks the first one that fits what it has free; none → sleeps `pollIntervalMs`, peeks again;
 *   3. if that job is not at the head, moves it to the head (BullMQ priority 0, which BullMQ takes
 *      before any prioritised job; the Forge priority stays in the payload), so jobs ahead of it
 *      that this worker cannot run keep their place for the workers that can;
 *   4. takes the head with `Worker.getNextJob` (which locks it and marks it active) and checks the
 *      payload's resources again; if another worker moved a different job to the head meanwhile
 *      and it does not fit, it goes back with `job.moveToWait` (its priority kept) and the round
 *      starts over;
 *   5. runs it through `Worker.processJob`, so BullMQ's lock renewal (the heartbeat), completion,
 *      failure and the stalled-job check stay BullMQ's.
 * Workers only take the head when the head fits them, so nobody takes a job it cannot run, and
 * jobs that fit no worker, however many, do not block the jobs behind them (`npm run bench:queue`
 * row (e)). The costs: behind many such jobs a fitting one is found after a few rounds (SCAN_DEPTH
 * jobs a round); the slices below the head are read from the `wait` list (jobs moved to the head,
 * few) and the priority set at the same offsets, so deep in a queue the first fitting job found
 * may not be the most urgent one that fits; and between two workers choosing at the same moment
 * the order among their chosen jobs can differ from strict priority order.
 *
 * While Redis is away the peek fails at once (a producer connection, see options.ts) and the loop
 * sleeps; BullMQ's own connection (locks, progress, results) waits for Redis to come back. The
 * outage is one `down` and one `up` for `onRedis`, not an error per round.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { checkRedisAccess, redactRedisError } from './access.ts';
import {
  type BuildJob,
  type JobPayload,
  type JobResults,
  jobPayloadSchema,
  type Resources,
  resultSchemas,
  type WorkerEvent,
  type WorkerInfo,
  type WorkerProcess,
} from './contracts.ts';
import { formatFailedReason, QueueErrorCode } from './errors.ts';
import { CLOSE_TIMEOUT_MS, RedisHealth, type RedisState, within } from './health.ts';
import { cancelKey, type QueueLocation, resolveLocation, workerKey } from './options.ts';
import { STALL_POLICY } from './queue.ts';
import { decodeJobName, fits, machineResources, subtract } from './resources.ts';

const PEEK_DEPTH = 100;
/** How many more job names a round reads below the first PEEK_DEPTH when none of those fits. */
const SCAN_DEPTH = 1000;

/** What a processor gets: the validated payload, a signal that fires on cancel, and reporting. */
export interface JobContext<P extends JobPayload = JobPayload> {
  jobId: string;
  payload: P;
  /** Aborted when the job is cancelled or the worker closes with `force`. */
  signal: AbortSignal;
  /** Progress of the job, e.g. stage `done` of `total`. */
  progress(done: number, total: number, message?: string): Promise<void>;
  /** One log line, sent to the producer and kept with the job. */
  log(line: string): Promise<void>;
}

/** One processor per job type; the worker dispatches with an exhaustive switch. */
export interface Processors {
  build(ctx: JobContext<BuildJob>): Promise<JobResults['build']>;
}

export interface ForgeWorkerOptions extends QueueLocation {
  processors: Processors;
  /** This worker's name, stored on the jobs it takes; default host name and pid. */
  name?: string;
  /** The process it runs in, announced with it (see WorkerProcess). */
  process?: WorkerProcess;
  /** What this worker has; each value missing is read from the machine (os.availableParallelism,
   *  os.totalmem, free space of `workDir`). */
  resources?: Partial<Resources>;
  /** Where builds write; its file system's free space is the worker's disk. Default os.tmpdir(). */
  workDir?: string;
  /** Jobs run at the same time, within the resources; default 1. */
  maxJobs?: number;
  /** Sleep between looks at the queue when nothing fits; default 500 ms. */
  pollIntervalMs?: number;
  /** How often an active job's cancel flag is read; default 1000 ms. */
  cancelPollMs?: number;
  /** Lock (heartbeat) duration: a job whose worker stops renewing it for this long is stalled;
   *  renewed every half of it. Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (any worker's); default 30 s. Use one value for
   *  every worker and the supervisor of a queue: each check blocks all others for this long. */
  stalledIntervalMs?: number;
  /** Told of each job failed without running because it is not a job this worker takes (a payload
   *  of another shape, written to Redis by someone other than the API). */
  onJobRefused?(jobId: string, reason: string): void;
}

/** BullMQ's Worker with its lock manager reachable: a manual fetch loop must start lock renewal. */
class ManualWorker extends Worker {
  startLockRenewal(): void {
    this.lockManager.start();
  }
}

export class ForgeWorker {
  readonly name: string;
  readonly resources: Resources;
  private readonly bull: ManualWorker;
  private readonly peekQueue: Queue;
  /** The producer connection: peeks, announcements, cancel flags, and the health's PING. */
  private readonly client: Redis;
  private readonly health: RedisHealth;
  private readonly errorListeners: ((err: Error) => void)[] = [];
  /** The processors running now (a build ends here; telling Redis may wait for it). */
  private readonly processing = new Map<string, Promise<unknown>>();
  private readonly prefix: string;
  private readonly queueName: string;
  private readonly opts: ForgeWorkerOptions;
  private readonly running = new Map<string, { resources: Resources; done: Promise<void> }>();
  private closing = false;
  private wake: (() => void) | undefined;
  /**
   * Where the next search below the head starts, and what was free when it last started over: it
   * starts over at the end of the queue, and when more is free than then (a job that did not fit
   * may fit now); otherwise the jobs above it are known not to fit.
   */
  private scanFrom = PEEK_DEPTH;
  private scanFree: Resources | undefined;
  private loop: Promise<void> | undefined;
  private announceTimer: NodeJS.Timeout | undefined;

  private constructor(opts: ForgeWorkerOptions, resources: Resources) {
    const loc = resolveLocation(opts);
    this.opts = opts;
    this.prefix = loc.prefix;
    this.queueName = loc.queueName;
    this.resources = resources;
    this.name = opts.name ?? `${os.hostname()}-${process.pid}`;
    const lockDuration = opts.lockDurationMs ?? 30_000;
    // Three parameters: BullMQ then makes an AbortController per job (Worker.cancelJob fires it).
    const processor = (job: Job, _token?: string, signal?: AbortSignal) => this.process(job, signal);
    this.bull = new ManualWorker(loc.queueName, processor, {
      connection: loc.connection,
      prefix: loc.prefix,
      name: this.name,
      autorun: false,
      concurrency: opts.maxJobs ?? 1,
      lockDuration,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      ...STALL_POLICY,
    });
    this.client = new Redis(loc.producer);
    this.health = new RedisHealth(this.client);
    this.peekQueue = new Queue(loc.queueName, { connection: this.client, prefix: loc.prefix });
    this.bull.on('error', this.reportError);
    this.peekQueue.on('error', this.reportError);
  }

  /**
   * Connection errors are the health's (one `down` per outage); others go to `onError`, with the
   * credentials ioredis puts on a refused AUTH or HELLO blanked.
   */
  private readonly reportError = (err: Error) => {
    if (this.health.report(err)) return;
    const clean = redactRedisError(err);
    for (const listener of this.errorListeners) listener(clean);
  };

  /** Starts a worker: resources read from the machine where not given, then the fetch loop. */
  static async start(opts: ForgeWorkerOptions): Promise<ForgeWorker> {
    // Refused credentials or TLS are an error now, not an endless retry (see access.ts).
    await checkRedisAccess(resolveLocation(opts).redis);
    const given = opts.resources ?? {};
    const needMachine =
      given.cpus === undefined || given.memoryMiB === undefined || given.diskGiB === undefined;
    const machine = needMachine ? await machineResources(opts.workDir ?? os.tmpdir()) : undefined;
    const resources: Resources = {
      cpus: given.cpus ?? (machine as Resources).cpus,
      memoryMiB: given.memoryMiB ?? (machine as Resources).memoryMiB,
      diskGiB: given.diskGiB ?? (machine as Resources).diskGiB,
    };
    const w = new ForgeWorker(opts, resources);
    try {
      await Promise.all([w.bull.waitUntilReady(), w.peekQueue.waitUntilReady()]);
      await w.bull.startStalledCheckTimer();
      w.bull.startLockRenewal();
      await w.announce();
    } catch (err) {
      await w.close().catch(() => {}); // leave no connection open behind a failed start
      throw err;
    }
    const every = (opts.lockDurationMs ?? 30_000) / 2;
    w.announceTimer = setInterval(() => void w.announce().catch(() => {}), every);
    w.loop = w.fetchLoop();
    return w;
  }

  /** Listen for errors of the worker that are not Redis being unreachable (see `onRedis`). */
  onError(listener: (err: Error) => void): void {
    this.errorListeners.push(listener);
  }

  /** Listen for Redis becoming unreachable and reachable again (`state.reachable`). */
  onRedis(listener: (state: RedisState) => void): void {
    this.health.on('down', listener);
    this.health.on('up', listener);
  }

  /** Ids of the jobs this worker runs now. */
  activeJobs(): string[] {
    return [...this.running.keys()];
  }

  /** What is free now: the worker's resources minus those of the jobs it runs. */
  free(): Resources {
    let free = this.resources;
    for (const { resources } of this.running.values()) free = subtract(free, resources);
    return free;
  }

  /** What `ForgeQueue.listWorkers` shows; the key lives three heartbeats unless refreshed. */
  private async announce(): Promise<void> {
    const info: WorkerInfo = {
      name: this.name,
      resources: this.resources,
      free: this.free(),
      activeJobs: this.activeJobs(),
      seenAt: Date.now(),
      ...(this.opts.process ? { process: this.opts.process } : {}),
    };
    const ttl = Math.ceil(((this.opts.lockDurationMs ?? 30_000) / 2) * 3);
    await this.client.set(workerKey(this.prefix, this.queueName, this.name), JSON.stringify(info), 'PX', ttl);
  }

  /**
   * Stops taking jobs. Without `force`, waits for running jobs to finish; with it, aborts their
   * signals and lets them fail (FORGE_ERR_CANCELLED).
   */
  async close(force = false): Promise<void> {
    this.closing = true;
    this.wake?.();
    // What waits for Redis is bounded: CLOSE_TIMEOUT_MS in all while it answers, nothing once it
    // is away (a forced close also waits for its builds, which need no Redis to end).
    let deadline = Date.now() + CLOSE_TIMEOUT_MS;
    const wait = () => (this.health.state().reachable ? Math.max(0, deadline - Date.now()) : 0);
    // The loop may be in BullMQ's getNextJob, which waits for Redis to come back.
    await within(wait(), this.loop ?? Promise.resolve());
    if (this.running.size > 0) {
      const finished = Promise.all([...this.running.values()].map((r) => r.done));
      if (force) {
        this.bull.cancelAllJobs('the worker is closing');
        // The builds end here; their end reaches Redis if it answers in time, else the job is left
        // active, and failed as stalled (FORGE_ERR_WORKER_LOST) by whoever checks next.
        await Promise.allSettled(this.processing.values());
        deadline = Date.now() + CLOSE_TIMEOUT_MS; // the time the builds took was not Redis'
        await within(wait(), finished);
      } else {
        await finished;
        deadline = Date.now() + CLOSE_TIMEOUT_MS;
      }
    }
    clearInterval(this.announceTimer);
    // Unannounced now, or the announcement expires with its TTL.
    const key = workerKey(this.prefix, this.queueName, this.name);
    await within(
      wait(),
      this.client.del(key).catch(() => {}),
    );
    this.health.stop();
    // No job is left to wait for: force drops BullMQ's connections instead of waiting on QUIT.
    await within(wait(), Promise.all([this.bull.close(true), this.peekQueue.close()]));
    // A close BullMQ did not finish in time can wait for good (its lock manager's last command
    // waits for Redis): its connections are dropped here, or they would go on reconnecting, to a
    // Redis that is away or refuses the password, after the worker closed.
    void this.bull.disconnect().catch(() => {});
    this.client.disconnect();
  }

  private async fetchLoop(): Promise<void> {
    while (!this.closing) {
      let took = false;
      if (this.running.size < (this.opts.maxJobs ?? 1)) {
        try {
          took = await this.takeOne();
        } catch (err) {
          if (!this.closing) this.bull.emit('error', err as Error);
        }
      }
      if (!took && !this.closing) await this.sleep(this.opts.pollIntervalMs ?? 500);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Waiting job ids from `start` (both lists at that offset, as described at the top) with their names. */
  private async peek(start: number, count: number): Promise<{ ids: string[]; names: (string | null)[] }> {
    const end = start + count - 1;
    const ids = [
      ...(await this.peekQueue.getRanges(['wait'], start, end, true)),
      ...(await this.peekQueue.getRanges(['prioritized'], start, end, true)),
    ];
    if (ids.length === 0) return { ids, names: [] };
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hget(this.peekQueue.toKey(id), 'name');
    const names = ((await pipeline.exec()) ?? []).map(([, name]) => name as string | null);
    return { ids, names };
  }

  /** The first waiting job that fits `free`, and whether it is at the head; see the top. */
  private async findFitting(free: Resources): Promise<{ id: string; head: boolean } | undefined> {
    const fitting = (names: (string | null)[]) =>
      names.findIndex((name) => {
        const decoded = name ? decodeJobName(name) : undefined;
        return decoded ? fits(decoded.resources, free) : name !== null; // unknown shape: take it, check the payload
      });
    const top = await this.peek(0, PEEK_DEPTH);
    const index = fitting(top.names);
    if (index >= 0) return { id: top.ids[index] as string, head: index === 0 };
    if (top.ids.length < PEEK_DEPTH) return undefined; // both lists end within the peek
    if (!this.scanFree || !fits(free, this.scanFree)) {
      this.scanFrom = PEEK_DEPTH;
      this.scanFree = free;
    }
    const deeper = await this.peek(this.scanFrom, SCAN_DEPTH);
    const found = fitting(deeper.names);
    if (found >= 0) return { id: deeper.ids[found] as string, head: false };
    if (deeper.ids.length < SCAN_DEPTH)
      this.scanFree = undefined; // the end: next time from the top
    else this.scanFrom += SCAN_DEPTH;
    return undefined;
  }

  /** One round of the choice described at the top; true when a job was taken. */
  private async takeOne(): Promise<boolean> {
    const free = this.free();
    const found = await this.findFitting(free);
    if (!found) return false;
    if (!found.head) {
      const chosen = await this.peekQueue.getJob(found.id);
      if (!chosen) return false;
      try {
        await chosen.changePriority({ priority: 0, lifo: true });
      } catch {
        return false; // taken or removed meanwhile
      }
    }
    const token = randomUUID();
    const job = await this.bull.getNextJob(token, { block: false });
    if (!job?.id) return false;
    const payload = jobPayloadSchema.safeParse(job.data);
    const request = payload.success ? payload.data.resources : undefined;
    if (request && !fits(request, free)) {
      await job.moveToWait(token);
      return false;
    }
    const jobId = job.id;
    const done = this.bull
      .processJob(job, token, () => false)
      .then(
        () => undefined,
        (err) => void this.bull.emit('error', err as Error),
      )
      .finally(() => {
        this.running.delete(jobId);
        this.wake?.();
        void this.announce().catch(() => {});
      });
    this.running.set(jobId, { resources: request ?? { cpus: 0, memoryMiB: 0, diskGiB: 0 }, done });
    void this.announce().catch(() => {});
    return true;
  }

  /** BullMQ's processor, tracked in `processing` while it runs. */
  private process(job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const jobId = job.id as string;
    const run = this.runProcessor(job, jobId, signal);
    const tracked = run.finally(() => this.processing.delete(jobId));
    this.processing.set(
      jobId,
      tracked.catch(() => {}),
    );
    return tracked;
  }

  /** Validate, watch the cancel flag, dispatch, validate the result. */
  private async runProcessor(job: Job, jobId: string, signal: AbortSignal | undefined): Promise<unknown> {
    const parsed = jobPayloadSchema.safeParse(job.data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'job'}: ${i.message}`);
      const reason = `not a job this worker takes, refused unrun (${issues.join('; ')})`;
      this.opts.onJobRefused?.(jobId, reason);
      throw new UnrecoverableError(formatFailedReason(QueueErrorCode.INVALID_JOB, reason));
    }
    const payload = parsed.data;
    const controller = new AbortController();
    const abort = () => controller.abort(signal?.reason);
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    const flag = cancelKey(this.prefix, this.queueName, jobId);
    const pollCancel = async () => {
      if (controller.signal.aborted) return;
      try {
        if ((await this.client.exists(flag)) === 1) controller.abort(new Error('cancelled'));
      } catch {
        // Redis trouble: the lock renewal reports it; try again at the next tick
      }
    };
    await pollCancel();
    const timer = setInterval(pollCancel, this.opts.cancelPollMs ?? 1000);
    const send = (event: WorkerEvent) => job.updateProgress(event);
    const ctx = {
      jobId,
      signal: controller.signal,
      progress: (done: number, total: number, message?: string) =>
        send(
          message === undefined
            ? { kind: 'progress', done, total }
            : { kind: 'progress', done, total, message },
        ),
      log: async (line: string) => {
        await job.log(line);
        await send({ kind: 'log', line });
      },
    };
    try {
      let result: unknown;
      try {
        switch (payload.type) {
          case 'build':
            result = await this.opts.processors.build({ ...ctx, payload });
            break;
        }
      } catch (err) {
        if (controller.signal.aborted) throw cancelled(controller.signal);
        const e = err as { code?: unknown; message?: unknown };
        const code =
          typeof e?.code === 'string' && e.code.startsWith('FORGE_ERR_') ? e.code : QueueErrorCode.JOB_FAILED;
        throw new UnrecoverableError(formatFailedReason(code, String(e?.message ?? err)));
      }
      if (controller.signal.aborted) throw cancelled(controller.signal);
      const checked = resultSchemas[payload.type].safeParse(result);
      if (!checked.success) {
        throw new UnrecoverableError(
          formatFailedReason(
            QueueErrorCode.INVALID_JOB,
            `invalid ${payload.type} result: ${checked.error.message}`,
          ),
        );
      }
      return checked.data;
    } finally {
      clearInterval(timer);
      signal?.removeEventListener('abort', abort);
      await this.client.del(flag).catch(() => {});
    }
  }
}

function cancelled(signal: AbortSignal): UnrecoverableError {
  const reason =
    signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'cancelled');
  return new UnrecoverableError(formatFailedReason(QueueErrorCode.CANCELLED, reason));
}
