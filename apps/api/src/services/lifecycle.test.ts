import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { start } from '@debian-forge/engine';
import { startTestApi } from '../testing.ts';
import { tinyPlanner, waitForState } from './compose.fixture.ts';

/** packages/queue's worker process that takes one job and hangs until it is killed. */
const DYING_WORKER = fileURLToPath(
  new URL('../../../../packages/queue/src/fixtures/dying-worker.ts', import.meta.url),
);

test('a worker killed mid-build: its compose ends FAILED with FORGE_ERR_WORKER_LOST', async (t) => {
  const lockMs = 1000;
  const api = await startTestApi(
    t,
    {},
    {
      // what the fixture worker has room for
      composes: { planner: tinyPlanner, resources: () => ({ cpus: 1, memoryMiB: 512, diskGiB: 1 }) },
      lifecycle: { stalledIntervalMs: 250, lockDurationMs: lockMs },
    },
  );
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
    ],
    { env: process.env as Record<string, string> },
    (chunk) => {
      output += chunk;
    },
  );
  t.after(async () => {
    if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await child.done;
  });
  const compose = await api.composes.submit({ blueprint: { name: 'base' }, imageType: 'qcow2' });
  await waitForState(api, compose.uuid, 'BUILDING').catch((e) => {
    throw new Error(`${e.message}; worker said: ${output}`);
  });
  assert.equal(api.store.composes.get(compose.uuid)?.workerId, 'doomed');
  child.child.kill('SIGKILL');
  await waitForState(api, compose.uuid, 'FAILED', lockMs + 5000);
  const error = api.store.composes.get(compose.uuid)?.error as { code?: string } | undefined;
  assert.equal(error?.code, 'FORGE_ERR_WORKER_LOST');
  assert.match(api.store.composes.log.read(compose.uuid).at(-1)?.line ?? '', /FORGE_ERR_WORKER_LOST/);
});
