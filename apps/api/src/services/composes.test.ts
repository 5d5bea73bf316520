import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BlueprintErrorCode, sha512Crypt } from '@debian-forge/blueprint';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import type { ApiError } from '../errors.ts';
import { ComposeErrorCode } from '../errors.ts';
import type { ComposeEvent } from '../events.ts';
import { listen } from '../server.ts';
import {
  catalogPlanner,
  firstRow,
  gatedPlanner,
  planOf,
  startTestWorker,
  TINY_MANIFEST,
  tinyPlanner,
  uploadArtifact,
  uploadingBuild,
  waitForState,
} from './compose.fixture.ts';
import { ComposePlanError } from './compose-errors.ts';
import { DEFAULT_MAX_IMAGE_SIZE } from './compose-requests.ts';
import type { ComposeRequest } from './composes.ts';

function errorCode(api: TestApi, uuid: string): string | undefined {
  return (api.store.composes.get(uuid)?.error as { code?: string } | undefined)?.code;
}

/** The half-written uploads (`.<random>.part`) in a compose's directory. */
function partFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.part')) : [];
}

const blueprint = { name: 'base', version: '0.0.1', packages: [] };
const request: ComposeRequest = { origin: { api: 'weldr' }, blueprint, imageType: 'qcow2' };

test('submit: PENDING at once, then QUEUED, BUILDING, the upload and COMPLETED, every step an event', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  const seen: ComposeEvent[] = [];
  api.deps.events.subscribe((e) => seen.push(e));
  await startTestWorker(
    api,
    uploadingBuild(() => api),
  );
  const compose = await api.composes.submit(request);
  assert.equal(compose.state, 'PENDING');
  assert.equal(compose.imageType, 'qcow2');
  assert.equal(compose.distro, 'debian-12');
  assert.equal(compose.size, 4 * 1024 ** 3, "the image type's default size");
  await waitForState(api, compose.uuid, 'COMPLETED');
  await api.lifecycle?.idle();
  const done = api.store.composes.get(compose.uuid);
  assert.equal(done?.workerId, 'test-worker');
  assert.deepEqual(done?.manifest, TINY_MANIFEST);
  assert.deepEqual(
    seen
      .filter((e) => e.type === 'state' && e.uuid === compose.uuid)
      .map((e) => (e as { state: string }).state),
    ['PENDING', 'QUEUED', 'BUILDING', 'COMPLETED'],
  );
  assert.ok(
    seen.some((e) => e.type === 'progress' && e.done === 1 && e.total === 2 && e.message === 'stage one'),
  );
  assert.ok(seen.some((e) => e.type === 'log' && e.line === `building ${compose.uuid}`));
  assert.deepEqual(
    api.store.composes.log.read(compose.uuid).map((l) => l.line),
    [`building ${compose.uuid}`],
  );
  const [artifact] = api.store.artifacts.list(compose.uuid);
  assert.equal(artifact?.filename, 'disk.qcow2');
  assert.equal(artifact?.mimeType, 'application/x-qemu-disk');
  assert.equal(readFileSync(artifact?.path as string, 'utf8'), `image bytes of ${compose.uuid}\n`);
});

test('submit: refusals before anything is stored; planner and build failures end FAILED with the reason', async (t) => {
  let plannerFails = true;
  const api = await startTestApi(
    t,
    {},
    {
      composes: {
        planner: async (c) => {
          if (plannerFails)
            throw Object.assign(new Error('no package nope'), { code: 'FORGE_ERR_APT_DEPSOLVE' });
          return tinyPlanner(c);
        },
      },
    },
  );
  for (const bad of [
    { ...request, imageType: 'vhd' },
    { ...request, distro: 'fedora-40' },
    { ...request, arch: 'ppc64le' },
    { ...request, imageType: 'tar', size: 1 << 30 },
    { ...request, priority: 5000 },
  ]) {
    await assert.rejects(api.composes.submit(bad), (e: { status?: number }) => e.status === 400);
  }
  assert.equal(api.store.composes.list().total, 0);

  const planned = await api.composes.submit(request);
  await waitForState(api, planned.uuid, 'FAILED');
  assert.deepEqual(api.store.composes.get(planned.uuid)?.error, {
    code: 'FORGE_ERR_APT_DEPSOLVE',
    message: 'no package nope',
  });

  plannerFails = false;
  let mode: 'fail' | 'no-upload' = 'fail';
  await startTestWorker(api, async () =>
    mode === 'fail'
      ? { success: false, error: { code: 'FORGE_ERR_BUILD', message: 'stage org.osbuild.apt failed' } }
      : { success: true, artifact: { filename: 'disk.qcow2', size: 1, sha256: 'a'.repeat(64) } },
  );
  const failing = await api.composes.submit(request);
  await waitForState(api, failing.uuid, 'FAILED');
  assert.deepEqual(api.store.composes.get(failing.uuid)?.error, {
    code: 'FORGE_ERR_BUILD',
    message: 'stage org.osbuild.apt failed',
  });
  mode = 'no-upload';
  const lying = await api.composes.submit(request);
  await waitForState(api, lying.uuid, 'FAILED');
  assert.equal(errorCode(api, lying.uuid), 'FORGE_ERR_ARTIFACT_MISSING');
  const log = api.store.composes.log.read(lying.uuid).map((l) => l.line);
  assert.match(log.at(-1) ?? '', /^\[forge\] compose failed: .*FORGE_ERR_ARTIFACT_MISSING/);
});

test('submit: the blueprint schema checks every blueprint; passwords are hashed before the row, the manifest and the log', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: catalogPlanner }, lifecycle: false });
  const seen: ComposeEvent[] = [];
  api.deps.events.subscribe((e) => seen.push(e));
  const bad = (customizations: Record<string, unknown>) => ({
    ...request,
    blueprint: { name: 'x', customizations },
  });
  for (const req of [
    bad({ user: [{ name: 'evil\nroot', password: 'x' }] }),
    bad({ directories: [{ path: 'tree:///../../etc' }] }),
    bad({ files: [{ path: '/../../etc/cron.d/x', data: 'x' }] }),
    bad({ unknown_key: true }),
    { ...request, blueprint: { name: '../../x' } },
  ]) {
    await assert.rejects(api.composes.submit(req as ComposeRequest), (e: ApiError) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, BlueprintErrorCode.Invalid);
      assert.ok(Array.isArray(e.details) && e.details.length === 1, JSON.stringify(e.details));
      return true;
    });
  }
  assert.equal(api.store.composes.list().total, 0, 'nothing stored');
  assert.equal(seen.length, 0, 'no event');

  const secret = 'plain-secret-4711';
  const kept = sha512Crypt('kept', 'abcdefgh');
  const compose = await api.composes.submit({
    ...request,
    blueprint: {
      name: 'users',
      customizations: {
        user: [
          { name: 'admin', password: secret },
          { name: 'ops', password: kept },
        ],
      },
    },
  });
  await api.composes.pending();
  const row = api.store.composes.get(compose.uuid);
  assert.equal(row?.state, 'QUEUED');
  type Users = { customizations?: { user?: { password?: string }[] } };
  const users = (row?.blueprint as Users | undefined)?.customizations?.user ?? [];
  const hashed = users[0]?.password ?? '';
  const salt = hashed.split('$')[2] ?? '';
  assert.equal(hashed, sha512Crypt(secret, salt), 'the stored blueprint has the hash');
  assert.equal(users[1]?.password, kept, 'a hash is kept as it is');
  const manifest = JSON.stringify(row?.manifest);
  assert.ok(manifest.includes(hashed), 'the manifest has the hash');
  for (const text of [JSON.stringify(row), manifest, JSON.stringify(seen)]) {
    assert.ok(!text.includes(secret), 'no plain text anywhere');
  }
  const job = await api.queue.getJob(`build-${compose.uuid}`);
  assert.ok(!JSON.stringify(job?.payload).includes(secret), 'nor in the queued job');
});

test('submit: a size is a whole number of bytes up to the maximum image size', async (t) => {
  const GiB = 1024 ** 3;
  const api = await startTestApi(
    t,
    {},
    { composes: { planner: tinyPlanner, maxImageSize: 20 * GiB }, lifecycle: false },
  );
  for (const size of [true, '8 GiB', 1.5, -1, Number.NaN, 2 ** 53, 20 * GiB + 1, 1e12]) {
    await assert.rejects(
      api.composes.submit({ ...request, size: size as number }),
      (e: ApiError) => e.status === 400 && e.code === ComposeErrorCode.BadRequest && /size/.test(e.message),
      String(size),
    );
  }
  await assert.rejects(api.composes.submit({ ...request, size: 1e12 }), {
    message:
      /size 1000000000000 bytes \(931\.3 GiB\) is more than the largest image this service makes, 21474836480 bytes \(20 GiB/,
  });
  assert.equal(api.store.composes.list().total, 0);
  assert.equal((await api.composes.submit({ ...request, size: 20 * GiB })).size, 20 * GiB);
  assert.equal((await api.composes.submit({ ...request, size: 0 })).size, 4 * GiB, 'the default');
  const byDefault = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  await assert.rejects(byDefault.composes.submit({ ...request, size: DEFAULT_MAX_IMAGE_SIZE + 1 }), {
    status: 400,
  });
  await assert.rejects(byDefault.composes.submit({ ...request, size: 1e12 }), { status: 400 });
});

test('an id in upper case is the same compose: cancel, priority and delete, events with the stored id', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  const seen: ComposeEvent[] = [];
  api.deps.events.subscribe((e) => seen.push(e));
  const compose = await api.composes.submit(request);
  await api.composes.pending();
  const upper = compose.uuid.toUpperCase();
  assert.equal((await api.composes.setPriority(upper, 7)).priority, 7);
  assert.equal((await api.queue.getJob(`build-${compose.uuid}`))?.payload?.priority, 7);
  assert.equal((await api.composes.cancel(upper)).state, 'CANCELLED');
  assert.equal(await api.queue.getJob(`build-${compose.uuid}`), undefined, 'out of the queue');
  await api.composes.delete(upper);
  assert.equal(api.store.composes.get(compose.uuid), undefined);
  assert.ok(seen.length > 0);
  assert.ok(
    seen.every((e) => e.uuid === compose.uuid),
    'events name the compose as stored',
  );
});

test('submit waiting for the plan (Weldr): QUEUED when it returns; a refused plan keeps nothing; cancel and the bound', async (t) => {
  const gated = gatedPlanner();
  const api = await startTestApi(
    t,
    {},
    { composes: { planner: gated.planner, planWaitSeconds: 1 }, lifecycle: false },
  );
  const seen: ComposeEvent[] = [];
  api.deps.events.subscribe((e) => seen.push(e));
  const states = (uuid: string) =>
    seen.filter((e) => e.type === 'state' && e.uuid === uuid).map((e) => (e as { state: string }).state);
  const wait = { waitForPlan: true };
  const missing = { ...request, blueprint: { ...blueprint, packages: [{ name: 'missing-tool' }] } };

  const good = await api.composes.submit(request, wait);
  assert.equal(good.state, 'QUEUED');
  assert.equal((await api.queue.getJob(good.jobId as string))?.payload?.composeId, good.uuid);

  const refusals: [ComposeRequest, number, string, RegExp][] = [
    [missing, 400, 'FORGE_ERR_APT_NOT_FOUND', /Unable to locate package missing-tool/],
    [{ ...request, size: 100 * 1024 ** 2 }, 400, 'FORGE_ERR_COMPOSE_SIZE', /too small/],
    [
      { ...request, imageType: 'debian-atomic-commit', ostree: { ref: 'not a ref' } },
      400,
      'FORGE_ERR_COMPOSE_OSTREE',
      /invalid ostree ref/,
    ],
  ];
  for (const [bad, status, code, message] of refusals) {
    await assert.rejects(api.composes.submit(bad, wait), (e: unknown) => {
      assert.ok(e instanceof ComposePlanError, String(e));
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.deepEqual(
    api.store.composes.list().items.map((c) => c.uuid),
    [good.uuid],
    'the refused composes are gone',
  );
  const refused = [...new Set(seen.map((e) => e.uuid))].filter((u) => u !== good.uuid);
  assert.equal(refused.length, 3);
  for (const uuid of refused) {
    assert.deepEqual(states(uuid), ['PENDING', 'FAILED'], 'followers see each refused compose end');
    assert.equal(existsSync(join(api.config.artifactsDir, uuid)), false);
  }
  await api.composes.cancel(good.uuid);
  await api.composes.delete(good.uuid);

  // Cancelled while its manifest is made: the call returns the CANCELLED row, nothing is queued.
  gated.close();
  const cancelling = api.composes.submit(request, wait);
  const uuid = await firstRow(api);
  assert.equal((await api.composes.cancel(uuid)).state, 'CANCELLED');
  gated.open();
  const cancelled = await cancelling;
  assert.equal(cancelled.state, 'CANCELLED');
  assert.equal(await api.queue.getJob(`build-${uuid}`), undefined);
  await api.composes.delete(uuid);

  // Past the bound (1 s here) the call returns the PENDING row; a later error ends it FAILED.
  gated.close();
  const started = Date.now();
  const slow = await api.composes.submit(missing, wait);
  assert.equal(slow.state, 'PENDING');
  assert.ok(Date.now() - started >= 1000, 'it waited for the bound');
  gated.open();
  await api.composes.pending();
  assert.equal(errorCode(api, slow.uuid), 'FORGE_ERR_APT_NOT_FOUND', 'kept, FAILED');
  assert.equal(api.store.composes.get(slow.uuid)?.state, 'FAILED');
});

test('cancel: a queued job leaves the queue; a running one is signalled and its worker stops', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  const queued = await api.composes.submit(request);
  await waitForState(api, queued.uuid, 'QUEUED');
  const cancelled = await api.composes.cancel(queued.uuid);
  assert.equal(cancelled.state, 'CANCELLED');
  assert.equal(await api.queue.getJob(`build-${queued.uuid}`), undefined);
  await assert.rejects(api.composes.cancel(queued.uuid), (e: { status?: number; code?: string }) => {
    return e.status === 409 && e.code === ComposeErrorCode.WrongState;
  });
  await assert.rejects(api.composes.cancel('00000000-0000-0000-0000-000000000000'), { status: 404 });

  let aborted = false;
  const worker = await startTestWorker(api, (ctx) => {
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        aborted = true;
        reject(new Error('killed'));
      });
    });
  });
  const running = await api.composes.submit(request);
  await waitForState(api, running.uuid, 'BUILDING');
  assert.equal((await api.composes.cancel(running.uuid)).state, 'CANCELLED');
  const outcome = await api.queue.waitForOutcome(`build-${running.uuid}`, 10_000);
  assert.equal(outcome.status, 'failed');
  assert.equal(aborted, true);
  await api.lifecycle?.idle();
  assert.equal(api.store.composes.get(running.uuid)?.state, 'CANCELLED');
  for (let i = 0; i < 100 && worker.activeJobs().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(worker.activeJobs(), [], 'the worker is free again');
});

test('submitFake, delete and setPriority', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  const failed = await api.composes.submitFake(request, 'fail');
  assert.equal(failed.state, 'FAILED');
  const finished = await api.composes.submitFake({ ...request, imageType: 'tar' }, 'finish');
  assert.equal(finished.state, 'COMPLETED');
  const [artifact] = api.store.artifacts.list(finished.uuid);
  assert.equal(artifact?.filename, 'root.tar');
  assert.ok(existsSync(artifact?.path as string));
  assert.equal(await api.queue.getJob(`build-${finished.uuid}`), undefined, 'never queued');

  const waiting = await api.composes.submit(request);
  await api.composes.pending();
  assert.equal((await api.composes.setPriority(waiting.uuid, 900)).priority, 900);
  assert.equal((await api.queue.getJob(`build-${waiting.uuid}`))?.payload?.priority, 900);
  await assert.rejects(api.composes.setPriority(waiting.uuid, -1), { status: 400 });
  await assert.rejects(api.composes.setPriority(finished.uuid, 1), { status: 409 });
  await assert.rejects(api.composes.delete(waiting.uuid), { status: 409 });

  await api.composes.delete(finished.uuid);
  assert.equal(api.store.composes.get(finished.uuid), undefined);
  assert.equal(existsSync(join(api.config.artifactsDir, finished.uuid)), false);
  await assert.rejects(api.composes.delete(finished.uuid), { status: 404 });
});

test('submitManifest: validated before anything is stored, then queued', async (t) => {
  const api = await startTestApi(t, {}, { lifecycle: false });
  const good = { manifest: TINY_MANIFEST, exports: ['image'], filename: 'disk.raw' };
  for (const bad of [
    { ...good, manifest: { version: '2', pipelines: [{ stages: 'x' }] } },
    { ...good, manifest: { version: '7' } },
    { ...good, exports: ['os'] },
    { ...good, filename: '../x' },
  ]) {
    await assert.rejects(api.composes.submitManifest(bad), (e: { status?: number; code?: string }) => {
      return e.status === 400 && e.code === ComposeErrorCode.BadManifest;
    });
  }
  assert.equal(api.store.composes.list().total, 0);
  const compose = await api.composes.submitManifest({ ...good, priority: 10 });
  assert.equal(compose.state, 'QUEUED');
  const job = await api.queue.getJob(compose.jobId as string);
  assert.equal(job?.payload?.priority, 10);
  const plan = await planOf(api, compose.uuid, compose.jobId as string);
  assert.deepEqual(plan.artifact, { filename: 'disk.raw', mimeType: 'application/octet-stream' });
  assert.deepEqual(plan.layers, [], 'a raw manifest says nothing of its packages');
});

test('artifact upload: streamed and checked; a wrong checksum is refused and leaves no file', async (t) => {
  const api = await startTestApi(
    t,
    { bodyLimit: 1024 },
    { composes: { planner: tinyPlanner }, lifecycle: false },
  );
  const compose = await api.composes.submit(request);
  await api.composes.pending();
  const big = Buffer.alloc(64 * 1024, 7); // beyond bodyLimit: uploads are not bound by it
  const early = await uploadArtifact(api, compose.uuid, 'disk.qcow2', big);
  assert.equal(early.statusCode, 409, early.body);
  api.store.composes.transition(compose.uuid, 'BUILDING');
  const bad = await uploadArtifact(api, compose.uuid, 'disk.qcow2', big, 'b'.repeat(64));
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().code, 'FORGE_ERR_CHECKSUM');
  assert.equal(existsSync(join(api.config.artifactsDir, compose.uuid, 'disk.qcow2')), false);
  assert.deepEqual(partFiles(join(api.config.artifactsDir, compose.uuid)), []);
  assert.equal((await uploadArtifact(api, compose.uuid, '../etc', big)).statusCode, 400);
  assert.equal((await uploadArtifact(api, compose.uuid, 'x', big, 'nothex')).statusCode, 400);
  assert.equal((await uploadArtifact(api, 'no-such-compose', 'x', big)).statusCode, 404);
  const ok = await uploadArtifact(api, compose.uuid, 'disk.qcow2', big);
  assert.equal(ok.statusCode, 201);
  assert.equal(ok.json().size, big.length);
  assert.equal(api.store.artifacts.get(compose.uuid, 'disk.qcow2')?.size, big.length);
  assert.equal(readFileSync(join(api.config.artifactsDir, compose.uuid, 'disk.qcow2')).length, big.length);
});

test('storeArtifact: the one writer of artifact rows takes the stream; refused uploads leave the body destroyed and the compose BUILDING', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  const compose = await api.composes.submit(request);
  await api.composes.pending();
  const upload = (bytes: Buffer, filename = 'disk.qcow2') => ({
    filename,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    body: Readable.from([bytes]),
  });
  const early = upload(Buffer.from('too early'));
  await assert.rejects(api.composes.storeArtifact(compose.uuid, early), { status: 409 });
  assert.equal(early.body.destroyed, true, 'a compose not BUILDING reads nothing');
  api.store.composes.transition(compose.uuid, 'BUILDING');

  const first = upload(Buffer.from('an image'));
  assert.deepEqual(await api.composes.storeArtifact(compose.uuid.toUpperCase(), first), {
    filename: 'disk.qcow2',
    size: first.size,
    sha256: first.sha256,
  });
  const again = upload(Buffer.from('the image sent again'));
  await api.composes.storeArtifact(compose.uuid, again);
  const rows = api.store.artifacts.list(compose.uuid);
  assert.deepEqual(
    rows.map((r) => [r.filename, r.size, r.sha256, r.mimeType]),
    [['disk.qcow2', again.size, again.sha256, 'application/x-qemu-disk']],
    'a retried upload replaces the first',
  );
  assert.equal(readFileSync(rows[0]?.path as string, 'utf8'), 'the image sent again');

  // A name whose path leads out of the compose's directory through a link: refused, nothing kept.
  symlinkSync('/etc', join(api.config.artifactsDir, compose.uuid, 'out'));
  const outside = upload(Buffer.from('not for /etc'), 'out');
  await assert.rejects(api.composes.storeArtifact(compose.uuid, outside), /leads out of/);
  assert.equal(outside.body.destroyed, true);
  assert.equal(api.store.composes.get(compose.uuid)?.state, 'BUILDING');
  assert.deepEqual(
    readdirSync(join(api.config.artifactsDir, compose.uuid)).sort(),
    ['disk.qcow2', 'out'],
    'no temporary file left',
  );
});

test("artifact upload: a body broken off is the client's fault (400, still BUILDING), storage the server's (5xx, FAILED)", async (t) => {
  const api = await startTestApi(t, (dir) => ({ socket: { path: join(dir, 'api.socket'), mode: 0o600 } }), {
    composes: { planner: tinyPlanner },
    lifecycle: false,
  });
  const { socket } = await listen(api.app, api.config);
  const compose = await api.composes.submit(request);
  await api.composes.pending();
  api.store.composes.transition(compose.uuid, 'BUILDING');
  const dir = join(api.config.artifactsDir, compose.uuid);

  // 1 MiB announced, 64 KiB sent, then the connection is gone.
  const answered = await new Promise<string>((resolve) => {
    const conn = createConnection(socket as string, () => {
      conn.write(
        `PUT /api/forge/v1/composes/${compose.uuid}/artifact?filename=disk.qcow2 HTTP/1.1\r\nhost: x\r\n` +
          `content-type: application/octet-stream\r\ncontent-length: ${1024 ** 2}\r\nx-forge-sha256: ${'a'.repeat(64)}\r\n\r\n`,
      );
      conn.write(Buffer.alloc(64 * 1024), () => setTimeout(() => conn.destroy(), 100));
    });
    let got = '';
    conn.on('data', (d) => {
      got += d.toString();
    });
    conn.on('close', () => resolve(got));
  });
  assert.equal(answered, '', 'nobody to answer');
  for (let i = 0; i < 50 && partFiles(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(partFiles(dir), [], 'the .part file is removed');
  assert.equal(api.store.composes.get(compose.uuid)?.state, 'BUILDING', 'the worker may send it again');

  // The artifacts directory cannot be made (a file is in its way): the server's fault.
  rmSync(api.config.artifactsDir, { recursive: true, force: true });
  writeFileSync(api.config.artifactsDir, 'not a directory');
  const res = await uploadArtifact(api, compose.uuid, 'disk.qcow2', Buffer.from('image'));
  assert.equal(res.statusCode, 500, res.body);
  assert.equal(res.json().code, 'FORGE_ERR_ARTIFACTS_STORAGE');
  assert.match(
    res.json().message,
    /^the artifacts directory failed: cannot store disk\.qcow2 \(5 bytes\) in .*ENOTDIR/,
  );
  const failed = api.store.composes.get(compose.uuid);
  assert.equal(failed?.state, 'FAILED');
  assert.deepEqual(failed?.error, { code: 'FORGE_ERR_ARTIFACTS_STORAGE', message: res.json().message });
  assert.ok(
    api.store.composes.log
      .read(compose.uuid)
      .some((l) => l.line.includes('compose failed: the artifacts directory failed')),
  );

  // So does a ?test=2 compose, whose fake image goes there too.
  await assert.rejects(
    api.composes.submitFake(request, 'finish'),
    (e: { status?: number; code?: string; message: string }) => {
      const uuid = /compose ([0-9a-f-]{36}) FAILED/.exec(e.message)?.[1] as string;
      assert.equal(e.status, 500);
      assert.equal(e.code, 'FORGE_ERR_ARTIFACTS_STORAGE');
      assert.equal(api.store.composes.get(uuid)?.state, 'FAILED');
      return true;
    },
  );
});

test('restart: the rebuilt API on the same SQLite and Redis gets every outcome it missed', async (t) => {
  const first: TestApi = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  const reuse = { dir: first.dir, redis: first.redis, queueName: first.queue.queueName };
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let current: TestApi = first;
  const worker = await startTestWorker(
    first,
    async (ctx) => {
      const result = await uploadingBuild(() => current)(ctx);
      if (ctx.payload.composeId === done?.uuid) {
        await gate; // the API goes down here
        await ctx.log('written while the API was down');
      }
      return result;
    },
    { own: true },
  );
  let done: { uuid: string } | undefined;
  done = await first.composes.submit(request);
  await waitForState(first, done.uuid, 'BUILDING');
  for (let i = 0; i < 200 && first.store.artifacts.list(done.uuid).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25)); // the upload
  }
  // A compose whose job vanished, and one whose manifest was being made when the API stopped.
  const row = {
    blueprintName: 'base',
    blueprintVersion: '0.0.1',
    blueprint,
    imageType: 'qcow2',
    distro: 'debian-12',
    arch: 'x86_64',
  };
  const lost = first.store.composes.create(row);
  first.store.composes.transition(lost.uuid, 'QUEUED', { jobId: `build-${lost.uuid}` });
  const pending = first.store.composes.create(row);
  await first.close();
  release();
  await new Promise((r) => setTimeout(r, 500));

  const second = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, reuse });
  current = second;
  assert.equal(second.lifecycle?.reconciled.changed[done.uuid], 'COMPLETED');
  assert.equal(second.lifecycle?.reconciled.changed[lost.uuid], 'FAILED');
  assert.deepEqual(second.lifecycle?.reconciled.replanned, [pending.uuid]);
  assert.equal(second.store.composes.get(done.uuid)?.state, 'COMPLETED');
  assert.deepEqual(
    second.store.composes.log.read(done.uuid).map((l) => l.line),
    [`building ${done.uuid}`, 'written while the API was down'],
  );
  assert.equal(errorCode(second, lost.uuid), 'FORGE_ERR_JOB_LOST');
  await waitForState(second, pending.uuid, 'COMPLETED');
  await worker.close(true);
  await second.close();
});

test('an upload before the lifecycle has seen the job start moves the compose to BUILDING', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  await startTestWorker(
    api,
    uploadingBuild(() => api),
  );
  const compose = await api.composes.submit(request);
  const outcome = await api.queue.waitForOutcome(`build-${compose.uuid}`, 10_000);
  assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
  const now = api.store.composes.get(compose.uuid);
  assert.equal(now?.state, 'BUILDING', 'no lifecycle: nobody completes it');
  assert.equal(now?.workerId, 'test-worker');
  assert.equal(api.store.artifacts.list(compose.uuid).length, 1);
});
