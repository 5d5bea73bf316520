/**
 * The producer side, used by the API: enqueue typed jobs, change their priority, cancel them,
 * read their state, and follow what workers report (progress, log lines, results) as typed events.
 *
 * Every call is bounded (`callTimeoutMs`): while Redis is unreachable it fails at once, or after
 * that long when Redis hangs, with FORGE_ERR_REDIS_UNAVAILABLE, so a request of the API never
 * waits for Redis to come back. The `redis` event tells when Redis goes away and comes back (see
 * health.ts); the event stream (QueueEvents) waits for it and goes on from the last event it read.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { checkRedisAccess, redactRedisError } from './access.ts';
import {
  type JobError,
  type JobPayload,
  type JobResult,
  type JobType,
  jobIdOf,
  jobPayloadSchema,
  resultSchemas,
  type WorkerEvent,
  type WorkerInfo,
  type WorkerProcess,
  workerEventSchema,
} from './contracts.ts';
import { formatFailedReason, parseFailedReason, QueueError, QueueErrorCode } from './errors.ts';
import {
  CLOSE_TIMEOUT_MS,
  HEALTH_INTERVAL_MS,
  RedisHealth,
  type RedisState,
  redisUnavailable,
  within,
} from './health.ts';
import { cancelKey, type QueueLocation, resolveLocation, workerKey } from './options.ts';
import { toBullPriority } from './priority.ts';
import { encodeJobName } from './resources.ts';

/** Where a job is, in the words of the compose states (QUEUED, BUILDING, then an end state). */
export type JobStatus = 'queued' | 'active' | 'completed' | 'failed' | 'unknown';

export interface JobInfo {
  id: string;
  status: JobStatus;
  /** Undefined for a job not of a shape this version takes (written to Redis by someone else);
   *  a worker fails such a job unrun. */
  payload?: JobPayload;
  /** Worker that took the job (its name), if any. */
  worker?: string;
  result?: JobResult;
  error?: JobError;
  enqueuedAt: number;
  startedAt?: number;
  finishedAt?: number;
}

export type JobOutcome = { status: 'completed'; result: JobResult } | { status: 'failed'; error: JobError };

export interface QueueEventMap {
  active: [jobId: string];
  progress: [jobId: string, event: Extract<WorkerEvent, { kind: 'progress' }>];
  log: [jobId: string, line: string];
  completed: [jobId: string, result: JobResult];
  failed: [jobId: string, error: JobError];
  removed: [jobId: string];
  /** Redis became unreachable, or reachable again (`state.reachable`). */
  redis: [state: RedisState];
  /** Other trouble of the queue's connections, credentials blanked (emitted only when listened to). */
  error: [err: Error];
}

/** An active job that failJobsOfDeadWorkers failed, because its worker is known to be dead. */
export interface LostJob {
  jobId: string;
  worker: string;
  /** `its worker <name> died (…how that is known)`: the job's failed reason. */
  reason: string;
}

export interface ForgeQueueOptions extends QueueLocation {
  /** Keep finished jobs this long (seconds) so a restarted API can reconcile; default 7 days. */
  keepFinishedSeconds?: number;
  /** The longest a call may wait for Redis; default CALL_TIMEOUT_MS. */
  callTimeoutMs?: number;
  /** How often Redis is PINGed to find it hanging; default HEALTH_INTERVAL_MS. */
  healthIntervalMs?: number;
}

/** The default bound of one call of the queue (a few commands). */
export const CALL_TIMEOUT_MS = 3_000;

/**
 * Stall handling, shared by workers and the supervisor so every stalled check agrees: a job whose
 * worker stops renewing its lock (crash, SIGKILL, lost network) is FAILED with FORGE_ERR_WORKER_LOST
 * at the first check that sees it (BullMQ maxStalledCount 0), never put back to run again,
 * as osbuild-composer fails stale jobs. A build that half ran may have left state behind, and
 * the user decides whether to compose again.
 */
export const STALL_POLICY = { maxStalledCount: 0 } as const;

export class ForgeQueue extends EventEmitter<QueueEventMap> {
  readonly prefix: string;
  readonly queueName: string;
  /** Made by `ready()`, and only once Redis has taken the credentials (see `connect`). */
  private connections: Connections | undefined;
  private opening: Promise<Connections> | undefined;
  private readonly location: ReturnType<typeof resolveLocation>;
  private readonly keepFinishedSeconds: number;
  private readonly callTimeoutMs: number;
  private readonly healthIntervalMs: number;
  private readonly createdAt = Date.now();
  private supervisor: Worker | undefined;

  constructor(options: ForgeQueueOptions) {
    super();
    const loc = resolveLocation(options);
    this.location = loc;
    this.prefix = loc.prefix;
    this.queueName = loc.queueName;
    this.keepFinishedSeconds = options.keepFinishedSeconds ?? 7 * 24 * 3600;
    this.callTimeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS;
    this.healthIntervalMs = options.healthIntervalMs ?? HEALTH_INTERVAL_MS;
  }

  /** The BullMQ queue (for tests that look underneath); there once `ready()` has resolved. */
  get queue(): Queue {
    return this.open().queue;
  }

  /** The producer connection: the Queue's and this class's own commands, and the health's PING. */
  private get client(): Redis {
    return this.open().client;
  }

  private get health(): RedisHealth {
    return this.open().health;
  }

  private get events(): QueueEvents {
    return this.open().events;
  }

  private open(): Connections {
    if (!this.connections) throw new Error('ForgeQueue: call ready() first');
    return this.connections;
  }

  /**
   * The connections, made only after `checkRedisAccess` has found the credentials and TLS good:
   * with refused ones BullMQ and ioredis reconnect for good, a QueueEvents that never became ready
   * can be neither closed nor dropped, and ioredis listens once for errors on a TLS socket whose
   * handshake failed, so a second one (the server's alert) is an uncaught exception.
   */
  private connect(): Connections {
    const loc = this.location;
    const client = new Redis(loc.producer);
    const health = new RedisHealth(client, this.healthIntervalMs);
    // The Queue shares the producer connection (BullMQ leaves a given instance open on close).
    const queue = new Queue(loc.queueName, { connection: client, prefix: loc.prefix });
    const events = new QueueEvents(loc.queueName, { connection: loc.connection, prefix: loc.prefix });
    this.connections = { client, health, queue, events };
    health.on('down', (state) => this.emit('redis', state));
    health.on('up', (state) => this.emit('redis', state));
    queue.on('error', (e) => this.emitError(e));
    events.on('error', (e) => this.emitError(e));
    events.on('active', ({ jobId }) => this.emit('active', jobId));
    events.on('removed', ({ jobId }) => this.emit('removed', jobId));
    events.on('progress', ({ jobId, data }) => {
      const ev = workerEventSchema.safeParse(data);
      if (!ev.success) return;
      if (ev.data.kind === 'log') this.emit('log', jobId, ev.data.line);
      else this.emit('progress', jobId, ev.data);
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      const result = parseResult(returnvalue);
      if (result) this.emit('completed', jobId, result);
      else
        this.emit('failed', jobId, {
          code: QueueErrorCode.INVALID_JOB,
          message: 'the worker returned no valid result',
        });
    });
    events.on('failed', ({ jobId, failedReason }) =>
      this.emit('failed', jobId, parseFailedReason(failedReason)),
    );
    return this.connections;
  }

  /** Connection errors are the health's (one `redis` event per outage); others go to `error`. */
  private emitError(e: Error): void {
    if (this.connections?.health.report(e)) return;
    if (this.listenerCount('error') > 0) this.emit('error', redactRedisError(e));
  }

  /**
   * Resolves when the queue and its event stream are connected. Credentials Redis refuses and TLS
   * that fails are a QueueError at once (see access.ts), not an endless retry.
   */
  async ready(): Promise<void> {
    this.opening ??= checkRedisAccess(this.location.redis).then(() => this.connect());
    const { queue, events } = await this.opening;
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  }

  /** Whether Redis answers now, as the API shows it. */
  redisState(): RedisState {
    return (
      this.connections?.health.state() ?? {
        reachable: false,
        since: this.createdAt,
        error: 'not connected yet',
      }
    );
  }

  /** Throws FORGE_ERR_REDIS_UNAVAILABLE while Redis is known to be unreachable (before storing
   *  something that needs the queue). */
  assertAvailable(): void {
    if (!this.connections) throw redisUnavailable('not connected yet');
    this.health.assertReachable();
  }

  /** One call of the API to Redis, bounded (see the top of this file). */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    return this.health.bound(this.callTimeoutMs, fn);
  }

  /** Validates the payload and queues it; returns the job id (one per compose: `build-<composeId>`). */
  add(payload: JobPayload): Promise<string> {
    const parsed = jobPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      return Promise.reject(
        new QueueError(
          QueueErrorCode.INVALID_JOB,
          `invalid ${String(payload?.type)} job: ${parsed.error.message}`,
        ),
      );
    }
    return this.call(() => this.addParsed(parsed.data));
  }

  private async addParsed(data: JobPayload): Promise<string> {
    const jobId = jobIdOf(data);
    const job = await this.queue.add(encodeJobName(data.type, data.resources), data, {
      jobId,
      priority: toBullPriority(data.priority),
      attempts: 1,
      removeOnComplete: { age: this.keepFinishedSeconds },
      removeOnFail: { age: this.keepFinishedSeconds },
    });
    if (job.id !== jobId) throw new Error(`BullMQ gave job id ${job.id}, expected ${jobId}`);
    return jobId;
  }

  /** Changes the priority of a job that still waits; false when it is no longer waiting. */
  setPriority(jobId: string, priority: number): Promise<boolean> {
    return this.call(() => this.changePriority(jobId, priority));
  }

  private async changePriority(jobId: string, priority: number): Promise<boolean> {
    const bull = toBullPriority(priority);
    const job = await Job.fromId(this.queue, jobId);
    if (!job || !isQueuedState(await job.getState())) return false;
    try {
      await job.changePriority({ priority: bull });
      await job.updateData({ ...(job.data as JobPayload), priority });
    } catch {
      return false;
    }
    return true;
  }

  /**
   * Cancels a job. A queued job is removed ("removed"); an active one gets a cancel flag that its
   * worker polls and turns into an AbortSignal for the processor, after which the job fails with
   * FORGE_ERR_CANCELLED ("signalled"). A finished job is left alone ("finished").
   */
  cancel(jobId: string): Promise<'removed' | 'signalled' | 'finished' | 'unknown'> {
    return this.call(() => this.cancelJob(jobId));
  }

  private async cancelJob(jobId: string): Promise<'removed' | 'signalled' | 'finished' | 'unknown'> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const job = await Job.fromId(this.queue, jobId);
      if (!job) return 'unknown';
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') return 'finished';
      if (isQueuedState(state)) {
        try {
          await job.remove();
          return 'removed';
        } catch {
          continue; // a worker took it meanwhile (it is locked): look again
        }
      }
      if (state === 'active') {
        await this.client.set(cancelKey(this.prefix, this.queueName, jobId), '1', 'EX', 24 * 3600);
        return 'signalled';
      }
      return 'unknown';
    }
    await this.client.set(cancelKey(this.prefix, this.queueName, jobId), '1', 'EX', 24 * 3600);
    return 'signalled';
  }

  getJob(jobId: string): Promise<JobInfo | undefined> {
    return this.call(() => this.readJob(jobId));
  }

  private async readJob(jobId: string): Promise<JobInfo | undefined> {
    // The state first, then the job: a job that ends between the two reads is then seen with its
    // result or reason (BullMQ writes both with the state, in one script), never 'completed'
    // without its result.
    const state = await this.queue.getJobState(jobId);
    const job = await Job.fromId(this.queue, jobId);
    if (!job) return undefined;
    const payload = jobPayloadSchema.safeParse(job.data);
    const info: JobInfo = {
      id: jobId,
      status: toStatus(state),
      ...(payload.success ? { payload: payload.data } : {}),
      enqueuedAt: job.timestamp,
    };
    if (job.processedBy) info.worker = job.processedBy;
    if (job.processedOn) info.startedAt = job.processedOn;
    if (job.finishedOn) info.finishedAt = job.finishedOn;
    if (state === 'completed') {
      const result = parseResult(job.returnvalue, payload.data?.type);
      if (result) info.result = result;
      else info.error = { code: QueueErrorCode.INVALID_JOB, message: 'the worker returned no valid result' };
    }
    if (state === 'failed') info.error = parseFailedReason(job.failedReason);
    return info;
  }

  /** Log lines a worker wrote for a job (kept with the job until it is removed). */
  getLogs(jobId: string): Promise<string[]> {
    return this.call(async () => (await this.queue.getJobLogs(jobId, 0, -1, true)).logs);
  }

  /** Resolves when the job completes or fails (at once if it already has). */
  async waitForOutcome(jobId: string, timeoutMs = 0): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (outcome: JobOutcome | Error) => {
        this.off('completed', onCompleted);
        this.off('failed', onFailed);
        this.off('removed', onRemoved);
        if (timer) clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onCompleted = (id: string, result: JobResult) =>
        id === jobId && done({ status: 'completed', result });
      const onFailed = (id: string, error: JobError) => id === jobId && done({ status: 'failed', error });
      const onRemoved = (id: string) => id === jobId && done(new Error(`job ${jobId} was removed`));
      this.on('completed', onCompleted);
      this.on('failed', onFailed);
      this.on('removed', onRemoved);
      if (timeoutMs > 0)
        timer = setTimeout(
          () => done(new Error(`job ${jobId}: no outcome within ${timeoutMs} ms`)),
          timeoutMs,
        );
      this.getJob(jobId).then((info) => {
        if (!info) done(new Error(`no job ${jobId}`));
        else if (info.status === 'completed' && info.result)
          done({ status: 'completed', result: info.result });
        else if (info.status === 'failed' || info.error) {
          done({ status: 'failed', error: info.error ?? { code: QueueErrorCode.JOB_FAILED, message: '' } });
        }
      }, done);
    });
  }

  /** The workers alive on this queue (each announces itself with its heartbeat), by name. */
  listWorkers(): Promise<WorkerInfo[]> {
    return this.call(() => this.readWorkers());
  }

  private async readWorkers(): Promise<WorkerInfo[]> {
    const match = workerKey(this.prefix, this.queueName, '*');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.client.mget(keys);
    return values
      .flatMap((v) => (v ? [JSON.parse(v) as WorkerInfo] : []))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Fails, at once and with FORGE_ERR_WORKER_LOST, every active job whose worker is known to be
   * dead, where the stalled-job check would wait for its lock to expire and then for its next
   * round (up to a minute by default). A worker is known to be dead when
   * - it announced a process on this machine that `processGone` says has ended (a service
   *   restarted after SIGKILL finds its own worker of before so, the moment it starts), or
   * - its announcement has expired and the job's lock too: no heartbeat for a while.
   * A worker on another machine that dies is known by the second only. The job leaves BullMQ's
   * active list for the failed set (as its worker would have moved it; the dead worker's lock
   * token is not needed), so it never runs twice, and it is not retried, as STALL_POLICY says.
   * A job that ended meanwhile is left as it is.
   */
  failJobsOfDeadWorkers(processGone: (p: WorkerProcess) => boolean): Promise<LostJob[]> {
    return this.call(() => this.failDeadWorkersJobs(processGone));
  }

  private async failDeadWorkersJobs(processGone: (p: WorkerProcess) => boolean): Promise<LostJob[]> {
    const ids = await this.queue.getRanges(['active'], 0, -1, true);
    if (ids.length === 0) return [];
    const look = this.client.pipeline();
    for (const id of ids) {
      look.hget(this.queue.toKey(id), 'pb');
      look.exists(`${this.queue.toKey(id)}:lock`);
    }
    const answers = ((await look.exec()) ?? []).map(([, value]) => value);
    const workers = new Map<string, WorkerInfo | undefined>();
    const lost: LostJob[] = [];
    for (const [i, jobId] of ids.entries()) {
      const name = answers[2 * i] as string | null;
      const locked = answers[2 * i + 1] === 1;
      if (!name) continue; // taken by a worker without a name: the stalled-job check sees to it
      if (!workers.has(name)) workers.set(name, await this.readWorker(name));
      const info = workers.get(name);
      let why: string | undefined;
      if (info?.process && processGone(info.process)) {
        why = `process ${info.process.pid} on ${info.process.host} has ended`;
      } else if (!info && !locked) {
        why = 'no heartbeat: its announcement and the lock of the job have expired';
      }
      if (!why) continue;
      const reason = `its worker ${name} died (${why})`;
      const job = await Job.fromId(this.queue, jobId);
      try {
        await job?.moveToFailed(
          new UnrecoverableError(formatFailedReason(QueueErrorCode.WORKER_LOST, reason)),
          '0',
        );
      } catch {
        continue; // it ended meanwhile, or another supervisor failed it first
      }
      if (job) lost.push({ jobId, worker: name, reason });
    }
    return lost;
  }

  /** A live worker's announcement, or undefined when it has none (any more). */
  getWorker(name: string): Promise<WorkerInfo | undefined> {
    return this.call(() => this.readWorker(name));
  }

  private async readWorker(name: string): Promise<WorkerInfo | undefined> {
    const value = await this.client.get(workerKey(this.prefix, this.queueName, name));
    return value ? (JSON.parse(value) as WorkerInfo) : undefined;
  }

  /** How many jobs are queued, active, completed and failed. */
  async counts(): Promise<{ queued: number; active: number; completed: number; failed: number }> {
    const c = await this.call(() =>
      this.queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed'),
    );
    return {
      queued: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  /**
   * Supervises stalled jobs from this process (the API calls it once), so a job whose worker died
   * ends FAILED even when no other worker is alive. Two parts:
   * - BullMQ's stalled-job check, run by a Worker that takes no work. With maxStalledCount 0,
   *   BullMQ 6 does not fail a stalled job itself: it marks it for failure ("deferred failure") and
   *   puts it back at the head of the wait list, where the next worker to take it fails it at once;
   * - so on every `stalled` event, and every `stalledIntervalMs`, the supervisor takes such marked
   *   jobs itself (moving each to the head first) and lets BullMQ fail them with that reason.
   * `stalledIntervalMs` must be the workers' value too.
   */
  async superviseStalledJobs(
    opts: { stalledIntervalMs?: number; lockDurationMs?: number } = {},
  ): Promise<void> {
    if (this.supervisor) return;
    const interval = opts.stalledIntervalMs ?? 30_000;
    const supervisor = new Worker(this.queueName, null, {
      connection: this.location.connection,
      prefix: this.prefix,
      autorun: false,
      name: 'forge-supervisor',
      stalledInterval: interval,
      lockDuration: opts.lockDurationMs ?? 30_000,
      ...STALL_POLICY,
    });
    this.supervisor = supervisor;
    supervisor.on('error', (e) => this.emitError(e));
    await supervisor.waitUntilReady();
    await supervisor.startStalledCheckTimer();
    const sweep = () => {
      this.sweeping = (this.sweeping ?? Promise.resolve())
        .then(() => this.failMarkedJobs(supervisor))
        .catch((e) => this.emitError(e as Error));
    };
    this.events.on('stalled', sweep);
    this.sweepTimer = setInterval(sweep, interval);
    sweep();
  }

  private sweeping: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  /** Fails the waiting jobs BullMQ marked for failure after a stall (see superviseStalledJobs). */
  private async failMarkedJobs(supervisor: Worker): Promise<void> {
    const ids = await this.queue.getRanges(['wait'], 0, -1, true);
    for (const id of ids) {
      if (!(await this.client.hexists(this.queue.toKey(id), 'defa'))) continue;
      const job = await Job.fromId(this.queue, id);
      if (!job) continue;
      try {
        await job.changePriority({ priority: 0, lifo: true }); // to the head
      } catch {
        continue; // taken meanwhile: whoever took it fails it
      }
      const token = randomUUID();
      const got = await supervisor.getNextJob(token, { block: false });
      if (!got) continue;
      if (!got.deferredFailure) {
        await got.moveToWait(token); // another job reached the head first: put it back
        continue;
      }
      await supervisor.processJob(got, token, () => false); // fails it with the deferred reason
    }
  }

  /**
   * Closes the connections, waiting for Redis at most CLOSE_TIMEOUT_MS in all (not at all while it
   * is known to be unreachable: there is nobody to say goodbye to); what is still open is dropped.
   */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const open = this.connections;
    if (!open) return; // never connected: nothing to close
    const { client, health, queue, events } = open;
    events.removeAllListeners('stalled');
    const deadline = Date.now() + (health.state().reachable ? CLOSE_TIMEOUT_MS : 0);
    health.stop();
    await within(Math.max(0, deadline - Date.now()), this.sweeping ?? Promise.resolve());
    // The supervisor runs no job of its own to wait for: force drops its connections at once.
    // QueueEvents disconnects first; its close waits for an `end` that a connection already
    // closed by Redis never sends, hence the bound.
    await within(
      Math.max(0, deadline - Date.now()),
      Promise.all([this.supervisor?.close(true), events.close(), queue.close()]),
    );
    client.disconnect();
  }
}

interface Connections {
  client: Redis;
  health: RedisHealth;
  queue: Queue;
  events: QueueEvents;
}

function isQueuedState(state: string): boolean {
  return (
    state === 'waiting' || state === 'prioritized' || state === 'delayed' || state === 'waiting-children'
  );
}

function toStatus(state: string): JobStatus {
  if (isQueuedState(state)) return 'queued';
  if (state === 'active' || state === 'completed' || state === 'failed') return state;
  return 'unknown';
}

function parseResult(value: unknown, type?: JobType): JobResult | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  const schema = resultSchemas[type ?? 'build'];
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
}
