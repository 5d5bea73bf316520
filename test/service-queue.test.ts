/**
 * The service's queue, workers and cancel with real builds (issue 6, "done when"): two workers take
 * twelve composes of mixed priorities in priority order; cancelling a running compose kills its
 * build at once and leaves no mount, loop device or process; a worker killed with SIGKILL mid-build
 * ends its compose FAILED with FORGE_ERR_WORKER_LOST while the other worker carries on.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ComposeEvent } from '@debian-forge/api';
import { sandboxUnavailable, tempDir, testLibdir } from './engine.fixture.ts';
import { releaseUnder, resourcesUnder } from './engine-host.fixture.ts';
import {
  diskManifest,
  helloManifest,
  inProcessWorker,
  jobDirectories,
  logLine,
  probeManifest,
  processesMentioning,
  startApi,
  TOKEN,
  waitForState,
  waitUntil,
  workerProcess,
} from './worker.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`skipping the service queue tests: ${skip}`);

test('two workers start twelve composes of mixed priorities in priority order', { skip }, async (t) => {
  const dir = tempDir('forge-service-');
  t.after(() => dir.cleanup());
  const service = await startApi(t);
  const { api } = service;
  const building: string[] = [];
  api.deps.events.subscribe((e: ComposeEvent) => {
    if (e.type === 'state' && e.state === 'BUILDING') building.push(e.uuid);
  });
  const priorities = [100, 900, 500, 500, 0, 1000, 300, 900, 700, 500, 100, 800];
  const uuids: string[] = [];
  for (const [i, priority] of priorities.entries()) {
    const c = await api.composes.submitManifest({
      manifest: helloManifest(`compose ${i}`),
      exports: ['tree'],
      filename: 'hello',
      priority,
    });
    uuids.push(c.uuid);
  }
  await Promise.all(uuids.map((uuid) => waitForState(api, uuid, 'QUEUED', 10_000)));
  // Higher first; equal priorities in the order they were submitted.
  const expected = priorities
    .map((priority, i) => ({ priority, i }))
    .sort((a, b) => b.priority - a.priority || a.i - b.i)
    .map(({ i }) => uuids[i] as string);

  const store = join(dir.path, 'shared');
  await Promise.all([
    inProcessWorker(service, { stateDir: join(store, 'w1'), name: 'w1' }),
    inProcessWorker(service, { stateDir: join(store, 'w2'), name: 'w2' }),
  ]);
  const done = await Promise.all(uuids.map((uuid) => waitForState(api, uuid, 'COMPLETED', 90_000)));
  assert.deepEqual(new Set(done.map((c) => c.workerId)), new Set(['w1', 'w2']), 'both workers built');

  // The order of the BUILDING events, and of the BUILDING timestamps, is the priority order; two
  // workers taking jobs at the same moment may start two neighbours in either order.
  const byTime = [...done]
    .sort((a, b) => (a.stateTimes.BUILDING ?? '').localeCompare(b.stateTimes.BUILDING ?? ''))
    .map((c) => c.uuid);
  for (const order of [building, byTime]) {
    assert.equal(order.length, 12);
    for (const [i, uuid] of order.entries()) {
      const want = expected.indexOf(uuid);
      assert.ok(
        Math.abs(want - i) <= 1,
        `compose of priority ${priorities[uuids.indexOf(uuid)]} started ${i}th, expected ${want}th`,
      );
    }
  }
});

test('cancelling a running compose frees its worker within seconds and leaves no mount, loop device or process', {
  skip,
}, async (t) => {
  const dir = tempDir('forge-service-');
  t.after(() => {
    releaseUnder(dir.path);
    dir.cleanup();
  });
  const service = await startApi(t);
  const { api } = service;
  const stateDir = join(dir.path, 'worker');
  const worker = await inProcessWorker(service, {
    stateDir,
    name: 'canceller',
    libdir: testLibdir(dir.path),
  });
  const asleep = logLine(api, 'sleeping');
  const compose = await api.composes.submitManifest({
    manifest: diskManifest({ sleep: 600 }),
    exports: ['tree'],
    filename: 'disk.img',
  });
  await asleep;
  // The stage runs with its file system mounted from a loop device, in the worker's store, and
  // with its own /dev (a tmpfs, as OSBuild's).
  const live = resourcesUnder(stateDir);
  assert.equal(live.loops.length, 1, JSON.stringify(live));
  assert.equal(live.mounts.length, 2, JSON.stringify(live));
  assert.equal(live.mounts.filter((m) => m.endsWith('/dev')).length, 1, JSON.stringify(live));
  assert.ok(processesMentioning(stateDir).length > 0, 'the build runs');

  const t0 = Date.now();
  const res = await api.app.inject({
    method: 'POST',
    url: `/api/forge/v1/composes/${compose.uuid}/cancel`,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().state, 'CANCELLED');
  await waitUntil('the worker is free', () => worker.forgeWorker.activeJobs().length === 0, 15_000);
  const freedMs = Date.now() - t0;
  console.log(`worker free ${freedMs} ms after the cancel`);
  assert.ok(freedMs < 10_000, `freed after ${freedMs} ms`);
  assert.deepEqual(resourcesUnder(stateDir), { loops: [], mounts: [] });
  assert.deepEqual(processesMentioning(stateDir), []);
  assert.deepEqual(jobDirectories(stateDir), []);
  assert.deepEqual(readdirSync(join(stateDir, 'run/forge-resources')), []);
  const job = await api.queue.getJob(`build-${compose.uuid}`);
  assert.equal(job?.error?.code, 'FORGE_ERR_CANCELLED');
  assert.equal(api.store.composes.get(compose.uuid)?.state, 'CANCELLED');

  // The worker takes the next compose.
  const next = await api.composes.submitManifest({
    manifest: helloManifest('next'),
    exports: ['tree'],
    filename: 'hello',
  });
  await waitForState(api, next.uuid, 'COMPLETED');
});

test('a worker killed with SIGKILL mid-build: its compose FAILS with FORGE_ERR_WORKER_LOST, the other worker carries on', {
  skip,
}, async (t) => {
  const dir = tempDir('forge-service-');
  t.after(() => dir.cleanup());
  // "big" composes need 2 CPUs: only the worker process has them, so it takes the long build.
  const resources = (c: { imageType: string }) =>
    c.imageType === 'big'
      ? { cpus: 2, memoryMiB: 1024, diskGiB: 1 }
      : { cpus: 1, memoryMiB: 1024, diskGiB: 1 };
  const service = await startApi(t, { composes: { resources } });
  const { api } = service;
  const libdir = testLibdir(dir.path);
  const doomedDir = join(dir.path, 'doomed');
  const doomed = await workerProcess(service, {
    stateDir: doomedDir,
    name: 'doomed',
    libdir,
    resources: { cpus: 2, memoryMiB: 4096, diskGiB: 10 },
  });
  const survivor = await inProcessWorker(service, {
    stateDir: join(dir.path, 'survivor'),
    name: 'survivor',
    libdir,
    resources: { cpus: 1, memoryMiB: 4096, diskGiB: 10 },
  });
  const asleep = logLine(api, 'sleeping');
  const long = await api.composes.submitManifest({
    manifest: probeManifest({ sleep: 600 }),
    exports: ['tree'],
    filename: 'never',
    imageType: 'big',
  });
  await asleep;
  assert.equal((await waitForState(api, long.uuid, 'BUILDING')).workerId, 'doomed');
  // The survivor is busy too when the other dies.
  const meanwhile = await api.composes.submitManifest({
    manifest: probeManifest({ sleep: 3, print: 'made it', write: ['/run/osbuild/tree/hello'] }),
    exports: ['tree'],
    filename: 'hello',
  });
  await waitForState(api, meanwhile.uuid, 'BUILDING');

  const t0 = Date.now();
  doomed.child.kill('SIGKILL');
  const failed = await waitForState(api, long.uuid, 'FAILED', 30_000);
  console.log(`compose FAILED ${Date.now() - t0} ms after the worker was killed`);
  assert.equal((failed.error as { code: string }).code, 'FORGE_ERR_WORKER_LOST');
  // Its build died with it (parent-death signal), not orphaned.
  await waitUntil(
    "the dead worker's build is gone",
    () => processesMentioning(doomedDir).length === 0,
    10_000,
  );

  assert.equal((await waitForState(api, meanwhile.uuid, 'COMPLETED')).workerId, 'survivor');
  const after = await api.composes.submitManifest({
    manifest: helloManifest('after'),
    exports: ['tree'],
    filename: 'hello',
  });
  assert.equal((await waitForState(api, after.uuid, 'COMPLETED')).workerId, survivor.name);
  const workers = await api.queue.listWorkers();
  assert.ok(workers.some((w) => w.name === 'survivor'));

  // The dead worker left its job directory; a worker started on its state directory removes it.
  assert.equal(jobDirectories(doomedDir).length, 1);
  await inProcessWorker(service, { stateDir: doomedDir, name: 'reborn' });
  assert.deepEqual(jobDirectories(doomedDir), []);
  assert.deepEqual(readdirSync(join(doomedDir, 'run/forge-resources')), []);
});
