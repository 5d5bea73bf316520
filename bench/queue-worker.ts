/**
 * bench:queue's workers: a forge worker whose processor records each start and ends when told,
 * run in the bench's own thread, or in a worker thread of its own (`heldTakesInThreads`), so
 * workers that contend for the queue do so in Redis and for the CPUs, not for one event loop.
 */
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ForgeWorker, type ForgeWorkerOptions, type Resources } from '@debian-forge/queue';
import type { RedisOptions } from 'ioredis';

/** A modest build machine: composes of a 64 GiB image (133 GiB of disk) fit it not. */
export const MACHINE: Resources = { cpus: 4, memoryMiB: 8192, diskGiB: 100 };

export interface Start {
  id: string;
  at: number;
  ended?: number;
}

export async function until(what: string, ms: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A forge worker of MACHINE (unless `opts` say otherwise) whose processor records each start and
 *  ends when `release` resolves. */
export async function recordingWorker(
  redis: RedisOptions,
  queueName: string,
  opts: Partial<ForgeWorkerOptions>,
  release: Promise<void> = Promise.resolve(),
) {
  const starts: Start[] = [];
  const worker = await ForgeWorker.start({
    redis,
    queueName,
    resources: MACHINE,
    // Timers that would only add Redis traffic of their own to what is measured.
    cancelPollMs: 3_600_000,
    lockDurationMs: 600_000,
    stalledIntervalMs: 600_000,
    ...opts,
    processors: {
      build: async (ctx) => {
        const start: Start = { id: ctx.payload.composeId, at: performance.now() };
        starts.push(start);
        await release;
        start.ended = performance.now();
        return { success: true };
      },
    },
  });
  return { worker, starts };
}

/** A worker thread does not inherit `--import tsx`: it registers tsx itself, then loads this file. */
const THREAD_MAIN = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;

interface HeldJob {
  redis: RedisOptions;
  queueName: string;
  name: string;
  each: number;
}

/**
 * `workers` forge workers at once, each in a thread of its own and holding up to `each` jobs: as
 * a worker asks for its next job the moment it took one, the time between two starts of one
 * worker is one take. The takes' durations (ms), all workers together.
 */
export async function heldTakesInThreads(
  redis: RedisOptions,
  queueName: string,
  workers: number,
  each: number,
): Promise<number[]> {
  const threads = Array.from(
    { length: workers },
    (_, w) =>
      new Worker(THREAD_MAIN, {
        eval: true,
        workerData: { redis, queueName, name: `held-${w}`, each } satisfies HeldJob,
      }),
  );
  try {
    const taken = await Promise.all(
      threads.map(async (t) => {
        const [message] = await Promise.race([
          once(t, 'message'),
          once(t, 'error').then(([e]) => Promise.reject(e)),
        ]);
        return message as number[];
      }),
    );
    for (const t of threads) t.postMessage('release');
    await Promise.all(threads.map((t) => once(t, 'exit')));
    return taken.flat();
  } finally {
    for (const t of threads) void t.terminate();
  }
}

/** In a thread: one held worker, its takes sent back, then released and closed on 'release'. */
async function heldThread({ redis, queueName, name, each }: HeldJob): Promise<void> {
  const port = parentPort;
  if (!port) return;
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  // Room for `each` jobs of any size at once, so no job waits for resources here.
  const resources: Resources = {
    cpus: MACHINE.cpus * each,
    memoryMiB: MACHINE.memoryMiB * each,
    diskGiB: 1000 * each,
  };
  const { worker, starts } = await recordingWorker(
    redis,
    queueName,
    { name, maxJobs: each, resources },
    released,
  );
  await until('held takes', 120_000, () => starts.length >= each);
  port.postMessage(starts.slice(1, each).map((s, i) => s.at - (starts[i]?.at ?? 0)));
  await once(port, 'message');
  const closing = worker.close();
  release();
  await closing;
  port.close();
}

if (!isMainThread) await heldThread(workerData as HeldJob);
