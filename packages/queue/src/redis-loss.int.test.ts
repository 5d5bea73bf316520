/**
 * The queue when its Redis goes away, on a real redis-server (one per test: each test kills it):
 * every call of the producer fails fast with FORGE_ERR_REDIS_UNAVAILABLE whether Redis is gone
 * (SIGKILL) or hangs (SIGSTOP), the outage is one `redis` event each way, everything works again
 * when Redis is back without new objects, and closing is bounded while Redis is away.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type { BuildResult, Resources } from './contracts.ts';
import { QueueErrorCode } from './errors.ts';
import type { RedisState } from './health.ts';
import { CALL_TIMEOUT_MS, ForgeQueue } from './queue.ts';
import { buildJob as build, randomQueueName, startRedis, type TestRedis } from './redis.fixture.ts';
import { ForgeWorker } from './worker.ts';

const SMALL: Resources = { cpus: 2, memoryMiB: 2048, diskGiB: 10 }; // what buildJob asks for
const OK: BuildResult = {
  success: true,
  artifact: { filename: 'disk.qcow2', size: 3, sha256: 'a'.repeat(64) },
};

/** Every call of the API's side of the queue, each to be bounded. */
const CALLS: [string, (q: ForgeQueue) => Promise<unknown>][] = [
  ['add', (q) => q.add(build('c1'))],
  ['counts', (q) => q.counts()],
  ['listWorkers', (q) => q.listWorkers()],
  ['getJob', (q) => q.getJob('build-c0')],
  ['getLogs', (q) => q.getLogs('build-c0')],
  ['cancel', (q) => q.cancel('build-c0')],
  ['setPriority', (q) => q.setPriority('build-c0', 700)],
];

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await work();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - started;
}

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const redis = await startRedis();
  const queue = new ForgeQueue({ redis: redis.options, queueName: randomQueueName() });
  await queue.ready();
  const changes: RedisState[] = [];
  queue.on('redis', (state) => changes.push(state));
  t.after(async () => {
    await queue.close();
    await redis.stop();
  });
  await queue.add(build('c0'));
  return { redis, queue, changes };
}

/** Runs every call while Redis is away; each must fail with the code within `boundMs`. */
async function assertAllRefused(queue: ForgeQueue, boundMs: number): Promise<number[]> {
  const times: number[] = [];
  for (const [name, call] of CALLS) {
    const { ms, error } = await timed(() => call(queue));
    assert.equal(
      (error as { code?: string })?.code,
      QueueErrorCode.REDIS_UNAVAILABLE,
      `${name}: ${String(error)}`,
    );
    assert.ok(ms < boundMs, `${name} took ${ms.toFixed(0)} ms, more than ${boundMs}`);
    times.push(ms);
  }
  return times;
}

function kill(redis: TestRedis, signal: NodeJS.Signals) {
  process.kill(redis.pid, signal);
}

test('Redis killed: every call fails at once with FORGE_ERR_REDIS_UNAVAILABLE; one event each way; all works again after a restart', {
  timeout: 60_000,
}, async (t) => {
  const { redis, queue, changes } = await setup(t);
  kill(redis, 'SIGKILL');
  const noticed = await until('the queue notices', () => !queue.redisState().reachable);
  const times = await assertAllRefused(queue, 500);
  console.log(
    `# killed: noticed in ${noticed.toFixed(0)} ms; calls refused in ${times.map((n) => n.toFixed(1)).join(', ')} ms`,
  );
  assert.match(queue.redisState().error ?? '', /closed|ECONNREFUSED|ENOENT|EPIPE|ECONNRESET/);
  assert.throws(() => queue.assertAvailable(), { code: QueueErrorCode.REDIS_UNAVAILABLE });

  await redis.restart(); // empty: the test server keeps no data
  const back = await until('the queue sees Redis again', () => queue.redisState().reachable);
  console.log(`# restarted: reachable again ${back.toFixed(0)} ms after the new server answered`);
  assert.deepEqual(
    changes.map((c) => c.reachable),
    [false, true],
    'one event when Redis went away, one when it came back, however many calls failed between',
  );
  // The same objects work again: a job added now is taken by a worker, and its outcome reaches
  // the producer through the event stream, which reconnected by itself.
  assert.equal(await queue.add(build('after')), 'build-after');
  const worker = await ForgeWorker.start({
    redis: redis.options,
    queueName: queue.queueName,
    resources: SMALL,
    pollIntervalMs: 50,
    processors: { build: async () => OK },
  });
  t.after(() => worker.close(true));
  assert.deepEqual(await queue.waitForOutcome('build-after', 15_000), { status: 'completed', result: OK });
  assert.deepEqual(await queue.counts(), { queued: 0, active: 0, completed: 1, failed: 0 });
});

test('Redis hanging (SIGSTOP): calls fail after the bound, the health PING finds it, and it comes back on SIGCONT', {
  timeout: 60_000,
}, async (t) => {
  const { redis, queue, changes } = await setup(t);
  kill(redis, 'SIGSTOP');
  t.after(() => {
    try {
      kill(redis, 'SIGCONT');
    } catch {
      // it has gone already
    }
  });
  // The first call waits for the bound (ioredis' command timeout), the next ones fail at once.
  const first = await timed(() => queue.counts());
  assert.equal(
    (first.error as { code?: string })?.code,
    QueueErrorCode.REDIS_UNAVAILABLE,
    String(first.error),
  );
  assert.ok(first.ms < CALL_TIMEOUT_MS + 500, `the first call took ${first.ms.toFixed(0)} ms`);
  const times = await assertAllRefused(queue, 100);
  console.log(
    `# stopped: first call refused after ${first.ms.toFixed(0)} ms, then in ${times.map((n) => n.toFixed(1)).join(', ')} ms`,
  );
  assert.equal(queue.redisState().reachable, false);

  kill(redis, 'SIGCONT');
  const back = await until('the PING finds Redis again', () => queue.redisState().reachable);
  console.log(`# continued: reachable again after ${back.toFixed(0)} ms`);
  assert.deepEqual(
    changes.map((c) => c.reachable),
    [false, true],
  );
  assert.equal((await queue.getJob('build-c0'))?.status, 'queued');
  assert.equal(await queue.setPriority('build-c0', 700), true);
});

test('a queue and a worker close within a bound while Redis hangs or is gone', {
  timeout: 60_000,
}, async (t) => {
  for (const signal of ['SIGSTOP', 'SIGKILL'] as const) {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const queueName = randomQueueName();
    const queue = new ForgeQueue({ redis: redis.options, queueName });
    await queue.ready();
    await queue.superviseStalledJobs({ stalledIntervalMs: 1000 });
    const worker = await ForgeWorker.start({
      redis: redis.options,
      queueName,
      resources: SMALL,
      pollIntervalMs: 50,
      processors: { build: async () => OK },
    });
    const down = once(queue, 'redis');
    kill(redis, signal);
    if (signal === 'SIGSTOP') await queue.counts().catch(() => {}); // the call that finds it hanging
    await down;
    const started = performance.now();
    await Promise.all([worker.close(true), queue.close()]);
    const ms = performance.now() - started;
    console.log(`# ${signal}: queue and worker closed in ${ms.toFixed(0)} ms`);
    assert.ok(ms < 2000, `closing took ${ms.toFixed(0)} ms with Redis ${signal}`);
  }
});
