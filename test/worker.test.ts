/**
 * The worker end to end: jobs from a real Redis queue, the real `forge build` (tiny manifests, as
 * root with bubblewrap), and a real API receiving the artifact over its unix socket or over TCP
 * with a bearer token; the compose service and lifecycle move the composes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ComposeEvent } from '@debian-forge/api';
import { sandboxUnavailable, tempDir, testLibdir } from './engine.fixture.ts';
import {
  hello,
  helloManifest,
  inProcessWorker,
  jobDirectories,
  probeManifest,
  startApi,
  TOKEN,
  waitForState,
} from './worker.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping the worker tests: ${skip}`);

test('a worker builds a manifest, reports stage n of m and log lines, and uploads the artifact', {
  skip,
}, async (t) => {
  const dir = tempDir('forge-worker-');
  t.after(() => dir.cleanup());
  const service = await startApi(t);
  const { api } = service;
  const seen: ComposeEvent[] = [];
  api.deps.events.subscribe((e) => seen.push(e));
  const worker = await inProcessWorker(service, {
    stateDir: join(dir.path, 'worker'),
    name: 'socket-worker',
  });

  const compose = await api.composes.submitManifest({
    manifest: helloManifest('over the socket'),
    exports: ['tree'],
    filename: 'hello',
  });
  const done = await waitForState(api, compose.uuid, 'COMPLETED');
  assert.equal(done.workerId, worker.name);
  const [artifact] = api.store.artifacts.list(compose.uuid);
  const bytes = hello('over the socket');
  assert.equal(artifact?.filename, 'hello');
  assert.equal(artifact?.size, bytes.length);
  assert.equal(artifact?.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual(readFileSync(artifact?.path as string), bytes);

  await api.lifecycle?.idle();
  const mine = seen.filter((e) => e.uuid === compose.uuid);
  const progress = mine.flatMap((e) => (e.type === 'progress' ? [[e.done, e.total, e.message]] : []));
  assert.deepEqual(progress, [
    [0, 2, 'pipeline tree: stage 1 of 2 (org.osbuild.mkdir)'],
    [1, 2, 'pipeline tree: 1 of 2 stages done'],
    [1, 2, 'pipeline tree: stage 2 of 2 (org.osbuild.copy)'],
    [2, 2, 'pipeline tree: 2 of 2 stages done'],
  ]);
  const lines = api.store.composes.log.read(compose.uuid).map((l) => l.line);
  for (const expected of [
    'Starting pipeline tree',
    'org.osbuild.mkdir: done',
    'uploading hello (16 bytes)',
  ]) {
    assert.ok(
      lines.some((l) => l.startsWith(expected)),
      `log has ${expected}:\n${lines.join('\n')}`,
    );
  }
  assert.deepEqual(jobDirectories(join(dir.path, 'worker')), [], 'the job directory is removed');
  assert.ok(readdirSync(join(dir.path, 'worker/store')).includes('objects'), 'the shared store is used');
  // Bounded as forge compose bounds its store: none given, none recorded before.
  assert.deepEqual(JSON.parse(readFileSync(join(dir.path, 'worker/store/cache.info'), 'utf8')), {
    version: 1,
    'maximum-size': 20 * 1024 ** 3,
  });
});

test('over TCP with a bearer token; a failing stage fails the compose with its output; a wrong token gets no plan', {
  skip,
}, async (t) => {
  const dir = tempDir('forge-worker-');
  t.after(() => dir.cleanup());
  const service = await startApi(t);
  const { api, listening } = service;
  const libdir = testLibdir(dir.path);
  const good = await inProcessWorker(service, {
    stateDir: join(dir.path, 'good'),
    name: 'tcp-worker',
    libdir,
    api: { url: listening.url as string, token: TOKEN },
  });

  const ok = await api.composes.submitManifest({
    manifest: helloManifest('over tcp'),
    exports: ['tree'],
    filename: 'hello',
  });
  await waitForState(api, ok.uuid, 'COMPLETED');
  assert.deepEqual(readFileSync(api.store.artifacts.list(ok.uuid)[0]?.path as string), hello('over tcp'));

  const broken = await api.composes.submitManifest({
    manifest: probeManifest({ print: 'the disk is on fire', exit: 3 }),
    exports: ['tree'],
    filename: 'hello',
  });
  const failed = await waitForState(api, broken.uuid, 'FAILED');
  const error = failed.error as { code: string; message: string };
  assert.equal(error.code, 'FORGE_ERR_BUILD_FAILED');
  assert.match(error.message, /stage org\.forge\.test\.probe failed:\nthe disk is on fire/);

  // Only this worker may run the next compose: the good one is closed.
  await good.close();
  await inProcessWorker(service, {
    stateDir: join(dir.path, 'bad'),
    name: 'bad-token',
    api: { url: listening.url as string, token: 'not-the-token' },
  });
  const refused = await api.composes.submitManifest({
    manifest: helloManifest('refused'),
    exports: ['tree'],
    filename: 'hello',
  });
  const lost = await waitForState(api, refused.uuid, 'FAILED');
  const why = lost.error as { code: string; message: string };
  assert.equal(why.code, 'FORGE_ERR_PLAN_REFUSED');
  assert.match(why.message, /401 Unauthorized/);
  assert.deepEqual(api.store.artifacts.list(refused.uuid), []);
  // The store holds the bound the worker recorded at its start, and nothing a build writes.
  assert.deepEqual(readdirSync(join(dir.path, 'bad/store')), ['cache.info'], 'forge build never ran');
});
