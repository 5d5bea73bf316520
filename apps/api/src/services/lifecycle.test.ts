import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processIdentity, start } from '@debian-forge/host';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import { startTestWorker, tinyPlanner, uploadingBuild, waitForState } from './compose.fixture.ts';

/** packages/queue's worker process that takes one job and hangs until it is killed. */
const DYING_WORKER = fileURLToPath(
  new URL('../../../../packages/queue/src/fixtures/dying-worker.ts', import.meta.url),
);

/**
 * The dying worker with a compose BUILDING on it; `announce`: it announces its process (on this
 * machine), as apps/worker does.
 */
async function doomedBuild(t: TestContext, api: TestApi, lockMs: number, announce = true) {
  const { host, bootId, pidNamespace } = processIdentity();
  let output = '';
  const child = start(
    [
      process.execPath,
      '--import',
      'tsx',
      DYING_WORKER,
      api.redis.socket,
      api.queue.prefix,
      api.queue.queueName,
      String(lockMs),
      ...(announce ? [JSON.stringify({ host, bootId, pidNamespace })] : []),
    ],
    { env: process.env as Record<string, string> },
    (chunk) => {
      output += chunk;
    },
  );
  t.after(async () => {
    if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await child.done.catch(() => {});
  });
  const compose = await api.composes.submit({
    origin: { api: 'weldr' },
    blueprint: { name: 'base' },
    imageType: 'qcow2',
  });
  await waitForState(api, compose.uuid, 'BUILDING').catch((e) => {
    throw new Error(`${e.message}; worker said: ${output}`);
  });
  assert.equal(api.store.composes.get(compose.uuid)?.workerId, 'doomed');
  const kill = async () => {
    child.child.kill('SIGKILL');
    await child.done.catch(() => {});
  };
  return { compose, pid: child.child.pid as number, kill };
}

/** What the fixture worker has room for. */
const fixtureResources = () => ({ cpus: 1, memoryMiB: 512, diskGiB: 1 });

test('a worker killed mid-build: its compose ends FAILED with FORGE_ERR_WORKER_LOST', async (t) => {
  const lockMs = 1000;
  const api = await startTestApi(
    t,
    {},
    {
      composes: { planner: tinyPlanner, resources: fixtureResources },
      lifecycle: { stalledIntervalMs: 250, lockDurationMs: lockMs },
    },
  );
  const { compose, kill } = await doomedBuild(t, api, lockMs, false);
  await kill();
  await waitForState(api, compose.uuid, 'FAILED', lockMs + 5000);
  const error = api.store.composes.get(compose.uuid)?.error as { code?: string } | undefined;
  assert.equal(error?.code, 'FORGE_ERR_WORKER_LOST');
  assert.match(api.store.composes.log.read(compose.uuid).at(-1)?.line ?? '', /FORGE_ERR_WORKER_LOST/);
});

test('a dead worker on this machine: its compose FAILED at the next look, long before its lock expires', async (t) => {
  const lockMs = 30_000; // BullMQ's stalled check would need this long and more
  const api = await startTestApi(
    t,
    {},
    {
      composes: { planner: tinyPlanner, resources: fixtureResources },
      lifecycle: { lockDurationMs: lockMs, checkIntervalMs: 200 },
    },
  );
  const { compose, pid, kill } = await doomedBuild(t, api, lockMs);
  await kill();
  const killed = Date.now();
  await waitForState(api, compose.uuid, 'FAILED', 5000);
  const ms = Date.now() - killed;
  assert.ok(ms < 2000, `FAILED ${ms} ms after the kill`);
  assert.deepEqual(api.store.composes.get(compose.uuid)?.error, {
    code: 'FORGE_ERR_WORKER_LOST',
    message: `its worker doomed died (process ${pid} on ${hostname()} has ended)`,
  });
  assert.equal((await api.queue.getJob(`build-${compose.uuid}`))?.status, 'failed');
});

test('a service restarted after its worker died fails that compose at start-up', async (t) => {
  const lockMs = 30_000;
  const options = {
    composes: { planner: tinyPlanner, resources: fixtureResources },
    lifecycle: { lockDurationMs: lockMs, checkIntervalMs: 60_000 },
  };
  const first = await startTestApi(t, {}, options);
  const { compose, kill } = await doomedBuild(t, first, lockMs);
  // Down together, as `forge serve` with its own worker under SIGKILL.
  await kill();
  await first.close();
  const second = await startTestApi(
    t,
    {},
    { ...options, reuse: { dir: first.dir, redis: first.redis, queueName: first.queue.queueName } },
  );
  try {
    // Nothing to wait for: reconciliation did it before the API was ready.
    const failed = second.store.composes.get(compose.uuid);
    assert.equal(failed?.state, 'FAILED');
    assert.match(
      (failed?.error as { message?: string } | undefined)?.message ?? '',
      /^its worker doomed died \(process \d+ on /,
    );
    assert.deepEqual(
      second.lifecycle?.reconciled.lost.map((l) => l.jobId),
      [`build-${compose.uuid}`],
    );
    assert.deepEqual(second.lifecycle?.reconciled.changed, { [compose.uuid]: 'FAILED' });
  } finally {
    await second.close(); // before the first's clean-up stops their Redis
  }
});

test('an outcome the database could not take when it came is stored at the next look', async (t) => {
  const errors: unknown[] = [];
  const api = await startTestApi(
    t,
    {},
    {
      composes: { planner: tinyPlanner },
      lifecycle: { checkIntervalMs: 200, onError: (err) => errors.push(err) },
    },
  );
  // Another process holds the database's write lock from the upload on, so the `completed` event
  // cannot be stored (SQLITE_BUSY after the 5 s busy timeout); the lock goes with the process.
  let holder: ReturnType<typeof start> | undefined;
  const upload = uploadingBuild(() => api);
  await startTestWorker(api, async (ctx) => {
    const result = await upload(ctx);
    const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(api.store.path)}); db.exec('BEGIN IMMEDIATE'); console.log('locked'); setInterval(() => {}, 1000);`;
    let said = '';
    await new Promise<void>((resolve) => {
      holder = start(
        [process.execPath, '-e', script],
        { env: process.env as Record<string, string> },
        (chunk) => {
          said += chunk;
          if (said.includes('locked')) resolve();
        },
      );
    });
    return result;
  });
  t.after(async () => {
    holder?.child.kill('SIGKILL');
    await holder?.done.catch(() => {});
  });
  const compose = await api.composes.submit({
    origin: { api: 'weldr' },
    blueprint: { name: 'base' },
    imageType: 'qcow2',
  });
  await waitForState(api, compose.uuid, 'BUILDING');
  for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(String(errors[0]), /database is locked/);
  assert.equal(api.store.composes.get(compose.uuid)?.state, 'BUILDING', 'the event is gone');
  assert.equal((await api.queue.getJob(`build-${compose.uuid}`))?.status, 'completed');
  holder?.child.kill('SIGKILL');
  await holder?.done.catch(() => {});
  await waitForState(api, compose.uuid, 'COMPLETED', 10_000);
});
