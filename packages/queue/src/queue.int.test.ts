/**
 * The queue on a real redis-server (one per file, on a unix socket) with real BullMQ workers;
 * every test has its own queue name.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { BuildJob, BuildResult, Resources } from './contracts.ts';
import { QueueErrorCode } from './errors.ts';
import { resolveLocation } from './options.ts';
import { ForgeQueue } from './queue.ts';
import { buildJob as build, randomQueueName, startRedis, type TestRedis } from './redis.fixture.ts';
import { ForgeWorker, type ForgeWorkerOptions, type Processors } from './worker.ts';

const PREFIX = 'forge-test';
const SMALL: Resources = { cpus: 2, memoryMiB: 2048, diskGiB: 10 };
const BIG: Resources = { cpus: 16, memoryMiB: 65536, diskGiB: 200 };
const OK: BuildResult = {
  success: true,
  artifact: { filename: 'disk.qcow2', size: 3, sha256: 'a'.repeat(64) },
};

let redis: TestRedis;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

/** A producer and a way to start workers on a fresh queue; everything is closed after the test. */
async function setup() {
  const queueName = randomQueueName();
  const queue = new ForgeQueue({ redis: redis.options, prefix: PREFIX, queueName });
  await queue.ready();
  const workers: ForgeWorker[] = [];
  const startWorker = async (processors: Processors, opts: Partial<ForgeWorkerOptions> = {}) => {
    const w = await ForgeWorker.start({
      redis: redis.options,
      prefix: PREFIX,
      queueName,
      resources: SMALL,
      pollIntervalMs: 50,
      cancelPollMs: 50,
      processors,
      ...opts,
    });
    workers.push(w);
    return w;
  };
  const close = async () => {
    await Promise.all(workers.map((w) => w.close(true)));
    await queue.close();
  };
  return { queue, queueName, startWorker, close };
}

test('a job that does not match its contract is refused at enqueue', async (t) => {
  const { queue, close } = await setup();
  t.after(close);
  const withManifest = { ...build('bad'), manifest: { version: '2', pipelines: [] } } as BuildJob;
  await assert.rejects(queue.add(withManifest), { code: QueueErrorCode.INVALID_JOB });
  await assert.rejects(queue.add(build('bad/../name')), { code: QueueErrorCode.INVALID_JOB });
  await assert.rejects(queue.add(build('x', { priority: 5000 })), { code: QueueErrorCode.INVALID_JOB });
  assert.deepEqual(await queue.counts(), { queued: 0, active: 0, completed: 0, failed: 0 });
});

test('a higher priority queued later is taken before a lower one queued earlier', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  await queue.add(build('low', { priority: 100 }));
  await queue.add(build('default'));
  await queue.add(build('high', { priority: 900 }));
  await queue.add(build('also-low', { priority: 100 }));
  const order: string[] = [];
  await startWorker({
    build: async ({ payload }) => {
      order.push(payload.composeId);
      return OK;
    },
  });
  await queue.waitForOutcome('build-also-low', 10_000);
  assert.deepEqual(order, ['high', 'default', 'low', 'also-low']);
});

test('two workers take twelve jobs of mixed priorities in priority order', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  const priorities = [100, 900, 500, 500, 0, 1000, 300, 900, 700, 500, 100, 800];
  for (const [i, priority] of priorities.entries()) await queue.add(build(`c${i}`, { priority }));
  // Expected: higher first, equal priorities in the order they were queued.
  const expected = priorities
    .map((priority, i) => ({ priority, i }))
    .sort((a, b) => b.priority - a.priority || a.i - b.i)
    .map(({ i }) => `c${i}`);
  const started: string[] = [];
  const processors: Processors = {
    build: async ({ payload }) => {
      started.push(payload.composeId);
      await new Promise((r) => setTimeout(r, 30));
      return OK;
    },
  };
  await Promise.all([startWorker(processors, { name: 'w1' }), startWorker(processors, { name: 'w2' })]);
  await Promise.all(expected.map((id) => queue.waitForOutcome(`build-${id}`, 10_000)));
  // Jobs leave the queue in exactly this order; two workers may start two neighbours in either order.
  assert.equal(started.length, 12);
  for (const [i, id] of started.entries()) {
    assert.ok(
      Math.abs(expected.indexOf(id) - i) <= 1,
      `${id} started ${i}th, expected ${expected.join(' ')}`,
    );
  }
});

test('setPriority moves a waiting job ahead', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  await queue.add(build('first', { priority: 600 }));
  await queue.add(build('second', { priority: 500 }));
  assert.equal(await queue.setPriority('build-second', 700), true);
  assert.equal((await queue.getJob('build-second'))?.payload?.priority, 700);
  const order: string[] = [];
  await startWorker({
    build: async ({ payload }) => {
      order.push(payload.composeId);
      return OK;
    },
  });
  await queue.waitForOutcome('build-first', 10_000);
  assert.deepEqual(order, ['second', 'first']);
  assert.equal(await queue.setPriority('build-first', 900), false);
});

test('each job goes to a worker it fits; a job that fits no worker stays queued and blocks nobody', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  // Most urgent first: a job no worker can run, then one only the big worker can run, then a small one.
  await queue.add(build('huge', { priority: 1000, resources: { cpus: 64, memoryMiB: 65536, diskGiB: 10 } }));
  await queue.add(build('big', { priority: 900, resources: { cpus: 8, memoryMiB: 16384, diskGiB: 50 } }));
  // Each processor waits until both jobs run, so neither worker can finish early and take the other's.
  const ranBy = new Map<string, string>();
  let release: () => void = () => {};
  const bothRunning = new Promise<void>((resolve) => {
    release = resolve;
  });
  const processorFor = (worker: string): Processors => ({
    build: async ({ payload }) => {
      ranBy.set(payload.composeId, worker);
      if (ranBy.size === 2) release();
      await Promise.race([bothRunning, new Promise((r) => setTimeout(r, 5000))]);
      return OK;
    },
  });
  // The small worker alone, idle, for several rounds: it takes neither job.
  await startWorker(processorFor('small'), { name: 'small', resources: SMALL });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await queue.getJob('build-big'))?.status, 'queued');
  // A small job queued behind them: the small worker takes it, past the two it cannot run.
  const smallActive = once(queue, 'active');
  await queue.add(build('small', { priority: 100, resources: SMALL }));
  assert.deepEqual(await smallActive, ['build-small']);
  await startWorker(processorFor('big'), { name: 'big', resources: BIG });
  await bothRunning;
  // Workers announce a change of load right after it (not in the same round trip): look a few times.
  let workers = await queue.listWorkers();
  for (let i = 0; i < 20 && workers.some((w) => w.activeJobs.length === 0); i++) {
    await new Promise((r) => setTimeout(r, 50));
    workers = await queue.listWorkers();
  }
  assert.deepEqual(
    workers.map((w) => [w.name, w.resources, w.activeJobs]),
    [
      ['big', BIG, ['build-big']],
      ['small', SMALL, ['build-small']],
    ],
  );
  assert.deepEqual(workers[0]?.free, { cpus: 8, memoryMiB: 65536 - 16384, diskGiB: 150 });
  const [big, small] = await Promise.all([
    queue.waitForOutcome('build-big', 10_000),
    queue.waitForOutcome('build-small', 10_000),
  ]);
  assert.deepEqual(big, { status: 'completed', result: OK });
  assert.deepEqual(small, { status: 'completed', result: OK });
  assert.deepEqual(Object.fromEntries(ranBy), { big: 'big', small: 'small' });
  assert.equal((await queue.getJob('build-big'))?.worker, 'big');
  await new Promise((r) => setTimeout(r, 300)); // several more rounds of both workers
  assert.equal((await queue.getJob('build-huge'))?.status, 'queued');
  assert.equal(ranBy.has('huge'), false);
});

test('behind more jobs than a round reads that fit no worker, a worker still finds the one that fits it', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  // 1,200 more urgent jobs too big for the worker: more than the first peek and the first slice
  // below it, so the fitting job is found only as the search goes on over rounds.
  const huge = { cpus: 64, memoryMiB: 65536, diskGiB: 10 };
  for (let i = 0; i < 1200; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        queue.add(build(`huge-${i + j}`, { priority: 900, resources: huge })),
      ),
    );
  }
  await queue.add(build('small', { priority: 100, resources: SMALL }));
  const ran: string[] = [];
  await startWorker({
    build: async ({ payload }) => {
      ran.push(payload.composeId);
      return OK;
    },
  });
  assert.deepEqual(await queue.waitForOutcome('build-small', 20_000), { status: 'completed', result: OK });
  assert.deepEqual(ran, ['small']);
  assert.equal((await queue.getJob('build-huge-0'))?.status, 'queued');
  assert.equal((await queue.getJob('build-huge-1199'))?.status, 'queued');
});

test('a worker with room for two runs two jobs at once, within its resources', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  for (const id of ['a', 'b', 'c'])
    await queue.add(build(id, { resources: { cpus: 2, memoryMiB: 1024, diskGiB: 5 } }));
  let running = 0;
  let most = 0;
  await startWorker(
    {
      build: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 200));
        running--;
        return OK;
      },
    },
    { resources: { cpus: 5, memoryMiB: 4096, diskGiB: 100 }, maxJobs: 3 },
  );
  await Promise.all(['a', 'b', 'c'].map((id) => queue.waitForOutcome(`build-${id}`, 10_000)));
  assert.equal(most, 2, '5 CPUs hold two 2-CPU jobs, not three');
});

test('progress and log lines reach the producer; the result is validated and kept', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  const seen: string[] = [];
  queue.on('active', (id) => seen.push(`active ${id}`));
  queue.on('progress', (id, p) => seen.push(`progress ${id} ${p.done}/${p.total} ${p.message ?? ''}`));
  queue.on('log', (id, line) => seen.push(`log ${id} ${line}`));
  await startWorker({
    build: async (ctx) => {
      await ctx.progress(1, 2, 'org.osbuild.debootstrap');
      await ctx.log('Get:1 bookworm InRelease');
      await ctx.progress(2, 2);
      return OK;
    },
  });
  await queue.add(build('p1'));
  const outcome = await queue.waitForOutcome('build-p1', 10_000);
  assert.deepEqual(outcome, { status: 'completed', result: OK });
  await new Promise((r) => setTimeout(r, 100)); // events arrive on their own connection
  assert.deepEqual(seen, [
    'active build-p1',
    'progress build-p1 1/2 org.osbuild.debootstrap',
    'log build-p1 Get:1 bookworm InRelease',
    'progress build-p1 2/2 ',
  ]);
  assert.deepEqual(await queue.getLogs('build-p1'), ['Get:1 bookworm InRelease']);
  const info = await queue.getJob('build-p1');
  assert.equal(info?.status, 'completed');
  assert.deepEqual(info?.result, OK);
});

test('a processor that throws or returns a bad result fails the job with a code', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  await startWorker({
    build: async ({ payload }) => {
      if (payload.composeId === 'throws')
        throw Object.assign(new Error('stage failed'), { code: 'FORGE_ERR_STAGE' });
      return { success: 'yes' } as unknown as BuildResult;
    },
  });
  await queue.add(build('throws'));
  await queue.add(build('bad-result'));
  assert.deepEqual(await queue.waitForOutcome('build-throws', 10_000), {
    status: 'failed',
    error: { code: 'FORGE_ERR_STAGE', message: 'stage failed' },
  });
  const bad = await queue.waitForOutcome('build-bad-result', 10_000);
  assert.equal(bad.status === 'failed' && bad.error.code, QueueErrorCode.INVALID_JOB);
});

test('a job written straight into Redis in another shape (a manifest of its own) is failed unrun', async (t) => {
  const { queue, queueName, startWorker, close } = await setup();
  t.after(close);
  const ran: string[] = [];
  const refused: [string, string][] = [];
  await startWorker(
    {
      build: async ({ payload }) => {
        ran.push(payload.composeId);
        return OK;
      },
    },
    { onJobRefused: (jobId, reason) => refused.push([jobId, reason]) },
  );
  // What anyone who can write to Redis can do: BullMQ's own Queue, a job of the old shape.
  const { connection } = resolveLocation({ redis: redis.options });
  const bull = new Queue(queueName, { connection, prefix: PREFIX });
  t.after(() => bull.close());
  const injected = { ...build('evil'), manifest: { version: '2', pipelines: [] }, exports: ['tree'] };
  await bull.add('build 2c 2048m 10g', injected, { jobId: 'build-evil' });
  const outcome = await queue.waitForOutcome('build-evil', 10_000);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error.code, QueueErrorCode.INVALID_JOB);
  assert.match(
    outcome.status === 'failed' ? outcome.error.message : '',
    /not a job this worker takes, refused unrun \(job: Unrecognized keys: "manifest", "exports"\)/,
  );
  assert.deepEqual(
    refused.map(([id]) => id),
    ['build-evil'],
  );
  // A job of the right shape after it still runs.
  await queue.add(build('good'));
  assert.equal((await queue.waitForOutcome('build-good', 10_000)).status, 'completed');
  assert.deepEqual(ran, ['good']);
});

test('cancel removes a queued job and aborts an active one', async (t) => {
  const { queue, startWorker, close } = await setup();
  t.after(close);
  await queue.add(build('queued', { resources: BIG })); // fits no worker here: it stays queued
  assert.equal(await queue.cancel('build-queued'), 'removed');
  assert.equal(await queue.getJob('build-queued'), undefined);
  assert.equal(await queue.cancel('build-queued'), 'unknown');

  let aborted = false;
  const worker = await startWorker({
    build: ({ signal }) =>
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('build killed'));
        });
      }),
  });
  const active = once(queue, 'active');
  await queue.add(build('active'));
  await active;
  const started = Date.now();
  assert.equal(await queue.cancel('build-active'), 'signalled');
  const outcome = await queue.waitForOutcome('build-active', 10_000);
  assert.equal(outcome.status === 'failed' && outcome.error.code, QueueErrorCode.CANCELLED);
  assert.equal(aborted, true);
  assert.ok(Date.now() - started < 2000, 'cancel takes effect within a few cancel polls');
  for (let i = 0; i < 20 && worker.activeJobs().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(worker.activeJobs(), []);
  assert.equal(await queue.cancel('build-active'), 'finished');
});

test('a worker killed mid-job: the job ends FAILED (worker lost), never stuck active', async (t) => {
  const { queue, queueName, close } = await setup();
  t.after(close);
  const lockMs = 1000;
  await queue.superviseStalledJobs({ stalledIntervalMs: 250, lockDurationMs: lockMs });
  const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'dying-worker.ts');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fixture, redis.socket, PREFIX, queueName, String(lockMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const took = new Promise<string>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('took')) resolve(b.toString());
    });
  });
  await queue.add(build('doomed'));
  assert.match(await took, /took build-doomed/);
  assert.equal((await queue.getJob('build-doomed'))?.status, 'active');
  child.kill('SIGKILL');
  const killed = Date.now();
  const outcome = await queue.waitForOutcome('build-doomed', 10_000);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error.code, QueueErrorCode.WORKER_LOST);
  assert.ok(Date.now() - killed < lockMs + 3000);
  assert.equal((await queue.getJob('build-doomed'))?.status, 'failed');
});

test('failJobsOfDeadWorkers: the job of a worker whose process ended fails at once, not a live one; no heartbeat counts too', async (t) => {
  const { queue, queueName, close } = await setup();
  t.after(close);
  const lockMs = 1000;
  const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'dying-worker.ts');
  const where = { host: 'here', bootId: 'this-boot', pidNamespace: 'pid:[1]' };
  const dying = async (jobName: string, announce: boolean) => {
    const args = [fixture, redis.socket, PREFIX, queueName, String(lockMs)];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', ...args, ...(announce ? [JSON.stringify(where)] : [])],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const took = new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('took')) resolve();
      });
    });
    await queue.add(build(jobName));
    await took;
    return child;
  };
  const dead = new Set<number>();
  const gone = (p: { pid: number; bootId: string }) => p.bootId === where.bootId && dead.has(p.pid);

  const child = await dying('announced', true);
  assert.deepEqual(await queue.failJobsOfDeadWorkers(gone), [], 'alive: nothing failed');
  assert.equal((await queue.getWorker('doomed'))?.process?.pid, child.pid);
  child.kill('SIGKILL');
  await once(child, 'exit');
  dead.add(child.pid as number);
  const killed = Date.now();
  const lost = await queue.failJobsOfDeadWorkers(gone);
  const tookMs = Date.now() - killed;
  assert.deepEqual(lost, [
    {
      jobId: 'build-announced',
      worker: 'doomed',
      reason: `its worker doomed died (process ${child.pid} on here has ended)`,
    },
  ]);
  assert.ok(tookMs < lockMs, `${tookMs} ms, before the lock of the job could expire`);
  const job = await queue.getJob('build-announced');
  assert.equal(job?.status, 'failed');
  assert.deepEqual(job?.error, { code: QueueErrorCode.WORKER_LOST, message: lost[0]?.reason });
  assert.equal((await queue.counts()).active, 0, 'out of the active list: it never runs twice');
  assert.deepEqual(await queue.failJobsOfDeadWorkers(gone), []);

  // A worker that says nothing of its process: dead once its announcement and the lock are gone.
  const mute = await dying('mute', false);
  mute.kill('SIGKILL');
  await once(mute, 'exit');
  assert.deepEqual(await queue.failJobsOfDeadWorkers(gone), [], 'its heartbeat has not expired yet');
  await new Promise((r) => setTimeout(r, lockMs * 1.5 + 200)); // the announcement lives 3 half-locks
  const silent = await queue.failJobsOfDeadWorkers(gone);
  assert.equal(silent.length, 1);
  assert.match(silent[0]?.reason ?? '', /^its worker doomed died \(no heartbeat/);
  assert.equal((await queue.getJob('build-mute'))?.status, 'failed');
});
