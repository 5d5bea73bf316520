/**
 * The build queue under contention, on a private redis-server (packages/queue's test Redis, unix
 * socket, no persistence) with the queue package as the service and `forge worker` use it:
 * `--composes` build jobs queued through ForgeQueue.add, each as the service makes it (a compose
 * uuid, a priority — the Weldr default for most, any Forge priority for some —, the resources
 * defaultResources asks for the compose's image size), then
 *   (a) a compose at the highest priority, queued last: is it the first a worker takes, and do the
 *       next ones come in priority order (first come, first served within one priority)?
 *   (b) dequeue latency with the queue that full: a worker holding its jobs asks for the next one
 *       the moment it took one, so the time between two jobs' starts is one take (peek, resource
 *       match, BullMQ's move to active, the processor called); alone and with four workers
 *       contending, each worker in a thread of its own (bench/queue-worker.ts);
 *       and a worker running one job at a time: from a job's end to the next job's start;
 *   (c) enqueue rate, one at a time and with submissions in flight together;
 *   (d) Redis memory per queued compose (INFO used_memory before and after, over the count);
 *   (e) jobs that fit no worker ahead of the ones that do: whether the worker still finds work.
 * The peer is BullMQ alone, in the same run on the same Redis: Queue.add with the same name, data
 * and options into a queue of its own, and Worker.getNextJob (head of the queue, no resources).
 *
 *   node --import tsx bench/queue.ts [--composes N] [--samples N]   (npm run bench:queue)
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultResources } from '@debian-forge/api';
import {
  type BuildJob,
  DEFAULT_PREFIX,
  DEFAULT_PRIORITY,
  encodeJobName,
  ForgeQueue,
  MAX_PRIORITY,
  resolveLocation,
  toBullPriority,
} from '@debian-forge/queue';
import { startRedis, type TestRedis } from '@debian-forge/queue/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { heldTakesInThreads, MACHINE, recordingWorker, until } from './queue-worker.ts';

const { values } = parseArgs({
  options: {
    composes: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '200' },
  },
});
const COMPOSES = Number(values.composes);
const SAMPLES = Number(values.samples);
for (const [name, n] of [
  ['--composes', COMPOSES],
  ['--samples', SAMPLES],
] as const) {
  if (!Number.isInteger(n) || n < 10) throw new Error(`${name} must be a whole number of 10 or more`);
}
/** Submissions in flight together in the concurrent part of (c), as API clients make them. */
const IN_FLIGHT = 32;
/** How many of the first submissions go one at a time. */
const ONE_BY_ONE = Math.min(1000, Math.floor(COMPOSES / 10));
/** worker.ts's PEEK_DEPTH: how far down the queue a worker looks first for a job that fits it. */
const PEEK_DEPTH = 100;
/** Jobs too big for the worker in (e)'s second case: more than worker.ts reads in one round. */
const FAR_DOWN = 1500;
const GiB = 1024 ** 3;
/** Adds made before anything is timed, by each side. */
const WARM_UP = 1000;

/** BullMQ's Queue on the test Redis, as ForgeQueue makes its own. */
function bullQueue(name: string): Queue {
  return new Queue(name, {
    connection: resolveLocation({ redis: redis.options }).connection,
    prefix: DEFAULT_PREFIX,
  });
}

/** ForgeQueue.add's BullMQ call alone: the same job name, data and options. */
function bullAdd(queue: Queue): (job: BuildJob) => Promise<unknown> {
  return (job) =>
    queue.add(encodeJobName(job.type, job.resources), job, {
      jobId: `build-${job.composeId}`,
      priority: toBullPriority(job.priority),
      attempts: 1,
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** A fixed pseudo-random sequence (mulberry32), so every run queues the same mix. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 70 % Weldr composes (the default priority), 30 % Forge ones below the top; 85 % default-size
 *  images, 12 % of 40 GiB, 3 % of 64 GiB. */
function composeJobs(count: number): BuildJob[] {
  const next = random(17);
  return Array.from({ length: count }, () => {
    const p = next();
    const s = next();
    const size = s < 0.85 ? 0 : s < 0.97 ? 40 * GiB : 64 * GiB;
    return {
      type: 'build',
      composeId: randomUUID(),
      priority: p < 0.7 ? DEFAULT_PRIORITY : Math.floor(next() * MAX_PRIORITY),
      resources: defaultResources({ size }),
    };
  });
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function latency(ms: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length };
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/** Runs `add` over `items`, `inFlight` at a time; the latency of each call. */
async function timedAdds<T>(items: T[], inFlight: number, add: (item: T) => Promise<unknown>) {
  const each: number[] = [];
  let i = 0;
  const lane = async () => {
    while (i < items.length) {
      const item = items[i++] as T;
      const t = performance.now();
      await add(item);
      each.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { seconds: (performance.now() - started) / 1000, each };
}

/** Queues `jobs`: the first ONE_BY_ONE one at a time, the others IN_FLIGHT at a time. */
async function enqueueAll(jobs: BuildJob[], add: (job: BuildJob) => Promise<unknown>) {
  const serial = await timedAdds(jobs.slice(0, ONE_BY_ONE), 1, add);
  const parallel = await timedAdds(jobs.slice(ONE_BY_ONE), IN_FLIGHT, add);
  return {
    serialRate: ONE_BY_ONE / serial.seconds,
    serial: latency(serial.each),
    parallelRate: (jobs.length - ONE_BY_ONE) / parallel.seconds,
    parallel: latency(parallel.each),
  };
}

/** BullMQ alone: Worker.getNextJob on `queueName`, `count` times one after another. */
async function bullTakes(redis: TestRedis, queueName: string, count: number): Promise<number[]> {
  const { connection } = resolveLocation({ redis: redis.options });
  const worker = new Worker(queueName, null, { connection, prefix: DEFAULT_PREFIX, autorun: false });
  await worker.waitUntilReady();
  const each: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const job = await worker.getNextJob(randomUUID(), { block: false });
    if (!job) throw new Error('BullMQ handed out no job');
    each.push(performance.now() - t);
  }
  await worker.close(true);
  return each;
}

const loadBefore = load();
let redis: TestRedis;
try {
  redis = await startRedis();
} catch (err) {
  console.error(`bench:queue: no private Redis (${(err as Error).message.split('\n')[0]})`);
  process.exit(1);
}
const admin = new Redis(redis.options);
const queueName = 'bench';
const queue = new ForgeQueue({ redis: redis.options, queueName });
/** measure, forge, BullMQ alone, ratio, notes */
const rows: [string, string, string, string, string][] = [];
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const ms = (n: number) => `${n.toFixed(2)} ms`;
try {
  await queue.ready();
  console.log(`load average before: ${loadBefore}`);

  // (c) and (d): the queue filled, and what it costs Redis.
  const jobs = composeJobs(COMPOSES);
  const urgent: BuildJob = {
    type: 'build',
    composeId: randomUUID(),
    priority: MAX_PRIORITY,
    resources: defaultResources({ size: 0 }),
  };
  // Both warmed up first (on queues of their own), so neither pays for the JIT in what is timed.
  const warm = new ForgeQueue({ redis: redis.options, queueName: 'bench-warm' });
  await warm.ready();
  const warmBull = bullQueue('bench-warm-bullmq');
  await timedAdds(composeJobs(WARM_UP), 1, (job) => warm.add(job));
  await timedAdds(composeJobs(WARM_UP), 1, bullAdd(warmBull));
  await Promise.all([warm.close(), warmBull.close()]);

  const memBefore = await usedMemory(admin);
  const forge = await enqueueAll(jobs, (job) => queue.add(job));
  await queue.add(urgent);
  const memAfter = await usedMemory(admin);
  const perCompose = (memAfter - memBefore) / (COMPOSES + 1);
  const jobKey = queue.queue.toKey(`build-${jobs[0]?.composeId}`);
  const jobHash = Number(await admin.memory('USAGE', jobKey));
  const stream = queue.queue.toKey('events');
  const streamBytes = Number(await admin.memory('USAGE', stream));
  const streamLen = await admin.xlen(stream);
  console.log(
    `queued ${COMPOSES + 1} composes: ${(await queue.counts()).queued} waiting; used_memory ${memBefore} → ${memAfter} bytes`,
  );

  // The peer: the same adds with BullMQ alone, into a queue of its own on the same Redis.
  const peerName = 'bench-bullmq';
  const peerQueue = bullQueue(peerName);
  const peerMemBefore = await usedMemory(admin);
  const peer = await enqueueAll(jobs, bullAdd(peerQueue));
  const peerPerCompose = ((await usedMemory(admin)) - peerMemBefore) / COMPOSES;
  await peerQueue.close();

  // (a) and (b), one job at a time on a modest machine: the first job taken, the order of the
  // next ones, and the time from a job's end to the next one's start.
  const order = new Map([...jobs, urgent].map((j, i) => [j.composeId, { ...j, index: i }]));
  const single = await recordingWorker(redis.options, queueName, { name: 'single', maxJobs: 1 });
  await until('one at a time', 120_000, () => single.starts.length >= SAMPLES);
  await single.worker.close();
  const taken = single.starts.map((s) => order.get(s.id));
  const firstIsUrgent = taken[0]?.composeId === urgent.composeId;
  let outOfOrder = 0;
  for (let i = 1; i < taken.length; i++) {
    const a = taken[i - 1];
    const b = taken[i];
    if (!a || !b) continue;
    if (b.priority > a.priority || (b.priority === a.priority && b.index < a.index)) outOfOrder++;
  }
  const unfitTaken = taken.filter((j) => j && j.resources.diskGiB > MACHINE.diskGiB).length;
  const turnaround = latency(
    single.starts.slice(1).map((s, i) => s.at - (single.starts[i]?.ended ?? Number.NaN)),
  );
  const queuedNow = (await queue.counts()).queued;

  // (b) with the queue still that full: one worker taking alone, then four contending.
  const perRound = Math.max(2, Math.floor(SAMPLES / 4));
  const alone = latency(await heldTakesInThreads(redis.options, queueName, 1, SAMPLES));
  const contended = latency(await heldTakesInThreads(redis.options, queueName, 4, perRound));
  const bull = latency(await bullTakes(redis, peerName, SAMPLES));
  const queuedAfter = (await queue.counts()).queued;

  // (e) On a queue of its own: PEEK_DEPTH - 1, then FAR_DOWN composes that no worker here can
  // run, at the top priority, ahead of composes it can: how many it takes in a few seconds.
  const blockedQueue = new ForgeQueue({ redis: redis.options, queueName: 'bench-blocked' });
  await blockedQueue.ready();
  const tooBig = (n: number): BuildJob[] =>
    composeJobs(n).map((j) => ({ ...j, priority: MAX_PRIORITY, resources: { ...MACHINE, cpus: 64 } }));
  const fitting = composeJobs(2000).map((j) => ({ ...j, resources: defaultResources({ size: 0 }) }));
  await timedAdds([...tooBig(PEEK_DEPTH - 1), ...fitting], IN_FLIGHT, (j) => blockedQueue.add(j));
  const blocked: number[] = [];
  for (const more of [0, FAR_DOWN - (PEEK_DEPTH - 1)]) {
    await timedAdds(tooBig(more), 1, (j) => blockedQueue.add(j));
    const w = await recordingWorker(redis.options, 'bench-blocked', { name: `behind-${more}`, maxJobs: 1 });
    await new Promise((r) => setTimeout(r, 3000));
    await w.worker.close();
    blocked.push(w.starts.length);
  }
  const fittingLeft = (await blockedQueue.counts()).queued - FAR_DOWN;
  await blockedQueue.close();

  rows.push(
    [
      `(a) first job taken, ${COMPOSES} queued`,
      firstIsUrgent ? 'the top-priority one queued last' : `NOT it (priority ${taken[0]?.priority})`,
      '',
      '',
      '',
    ],
    [
      `(a) next ${taken.length - 1} taken out of priority/FIFO order`,
      String(outOfOrder),
      '',
      '',
      `${unfitTaken} too big for the worker taken`,
    ],
    [
      `(b) take, 1 worker alone (${alone.n}), p50 / p99`,
      `${ms(alone.p50)} / ${ms(alone.p99)}`,
      `${ms(bull.p50)} / ${ms(bull.p99)}`,
      `${ratio(alone.p50, bull.p50)} / ${ratio(alone.p99, bull.p99)}`,
      'BullMQ: Worker.getNextJob one after another',
    ],
    [
      `(b) take, 4 workers contending (${contended.n}), p50 / p99`,
      `${ms(contended.p50)} / ${ms(contended.p99)}`,
      `${ms(bull.p50)} / ${ms(bull.p99)}`,
      `${ratio(contended.p50, bull.p50)} / ${ratio(contended.p99, bull.p99)}`,
      `each in a thread of its own; ${queuedAfter} still queued after`,
    ],
    [
      `(b) job end → next start, 1 job at a time (${turnaround.n}), p50 / p99`,
      `${ms(turnaround.p50)} / ${ms(turnaround.p99)}`,
      '',
      '',
      `completion + take; ${queuedNow} still queued after`,
    ],
    [
      `(c) enqueue, one at a time (${ONE_BY_ONE})`,
      `${forge.serialRate.toFixed(0)}/s`,
      `${peer.serialRate.toFixed(0)}/s`,
      ratio(forge.serialRate, peer.serialRate),
      `p99 ${ms(forge.serial.p99)} (BullMQ ${ms(peer.serial.p99)}); forge's own QueueEvents reads each added event in this process`,
    ],
    [
      `(c) enqueue, ${IN_FLIGHT} in flight (${COMPOSES - ONE_BY_ONE})`,
      `${forge.parallelRate.toFixed(0)}/s`,
      `${peer.parallelRate.toFixed(0)}/s`,
      ratio(forge.parallelRate, peer.parallelRate),
      `p99 ${ms(forge.parallel.p99)} (BullMQ ${ms(peer.parallel.p99)})`,
    ],
    [
      '(d) Redis memory per queued compose',
      `${perCompose.toFixed(0)} B`,
      `${peerPerCompose.toFixed(0)} B`,
      ratio(perCompose, peerPerCompose),
      `a job hash ${jobHash} B; events stream ${streamLen} entries, ${(streamBytes / Math.max(1, streamLen)).toFixed(0)} B each`,
    ],
    [
      `(e) taken in 3 s behind ${PEEK_DEPTH - 1} / ${FAR_DOWN} composes too big for the worker`,
      `${blocked[0]} / ${blocked[1]}`,
      '',
      '',
      `${fittingLeft} that fit still queued behind them`,
    ],
  );
} finally {
  await queue.close();
  admin.disconnect();
  await redis.stop();
}

console.log('\n| measure | forge | BullMQ alone | ratio forge/BullMQ | notes |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nload average after: ${load()} (2 CPUs; other work on the machine counts in these figures)`);
