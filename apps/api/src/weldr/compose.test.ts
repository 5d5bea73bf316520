import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { run } from '@debian-forge/host';
import type { Compose } from '@debian-forge/store';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import {
  firstRow,
  gatedPlanner,
  planOf,
  startTestWorker,
  TINY_MANIFEST,
  tinyPlanner,
  uploadingBuild,
  waitForState,
} from '../services/compose.fixture.ts';
import { fakeImage } from '../services/compose-fake.ts';
import { noDebianMirror, postText, weldrError } from './weldr.fixture.ts';

const JSON_TYPE = 'application/json';
const blueprint = { name: 'base', version: '0.0.1', packages: [], modules: [], groups: [] };

async function api(t: TestContext, lifecycle = false): Promise<TestApi> {
  const a = await startTestApi(
    t,
    {},
    { composes: { planner: tinyPlanner }, ...(lifecycle ? {} : { lifecycle: false }) },
  );
  a.store.blueprints.push(blueprint, { versionGiven: '0.0.1' });
  return a;
}

async function start(a: TestApi, body: Record<string, unknown>, query = '', version = 'v0') {
  return postText(a.app, `/api/${version}/compose${query}`, JSON.stringify(body), JSON_TYPE);
}

async function startId(a: TestApi, type: string, query: string): Promise<string> {
  const res = await start(a, { blueprint_name: 'base', compose_type: type, branch: 'master' }, query);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as { build_id: string; status: boolean; warnings: unknown[] };
  assert.equal(body.status, true);
  assert.deepEqual(body.warnings, []);
  return body.build_id;
}

const get = (a: TestApi, url: string, headers: Record<string, string> = {}) =>
  a.app.inject({ method: 'GET', url, headers });

/** The members of a tar answer, extracted by tar(1). */
async function untar(payload: Buffer): Promise<(name: string) => Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-untar-'));
  try {
    writeFileSync(join(dir, 'x.tar'), payload);
    const { stdout } = await run(['tar', '-tf', join(dir, 'x.tar')]);
    await run(['tar', '-xf', join(dir, 'x.tar'), '-C', dir]);
    const files = new Map(
      stdout
        .split('\n')
        .filter((n) => n !== '')
        .map((n) => [n, readFileSync(join(dir, n))]),
    );
    return (name) => {
      const data = files.get(name);
      if (!data) throw new Error(`no ${name} in the tar (${[...files.keys()].join(', ')})`);
      return data;
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('compose start: Weldr errors for bad requests, before anything is stored', async (t) => {
  const a = await api(t);
  weldrError(await postText(a.app, '/api/v0/compose', '{}'), 400, 'MissingPost', 'blueprint must be json');
  weldrError(await postText(a.app, '/api/v0/compose', '{}', 'text/x-toml'), 400, 'MissingPost');
  weldrError(await postText(a.app, '/api/v0/compose', '{"blueprint_name":', JSON_TYPE), 404, 'HTTPError');
  weldrError(
    await start(a, { blueprint_name: 'nope', compose_type: 'qcow2' }),
    400,
    'UnknownBlueprint',
    'Unknown blueprint name: nope',
  );
  // The name rule first, as composer checks it, and the length limit named.
  for (const name of ['..', 'a/b']) {
    weldrError(
      await start(a, { blueprint_name: name, compose_type: 'qcow2' }),
      400,
      'InvalidChars',
      'Invalid characters in API path',
    );
  }
  weldrError(
    await start(a, { blueprint_name: 'b'.repeat(100_000), compose_type: 'qcow2' }),
    400,
    'InvalidChars',
    'blueprint name too long: 100000 characters, at most 100 allowed',
  );
  assert.deepEqual((await start(a, { blueprint_name: 'base', compose_type: 'vhd' })).json(), {
    status: false,
    errors: [{ id: 'ComposeError', msg: 'Failed to get compose type "vhd": invalid image type: vhd' }],
  });
  for (const body of [{ compose_type: 'qcow2' }, { blueprint_name: '', compose_type: 'qcow2' }]) {
    weldrError(await start(a, body), 400, 'InvalidChars', 'Invalid characters in API path');
  }
  weldrError(
    await start(a, { blueprint_name: 'base', compose_type: 'qcow2', ostree: { ref: 'a/b' } }),
    400,
    'OSTreeOptionsError',
  );
  weldrError(
    await start(a, { blueprint_name: 'base', compose_type: 'tar', size: 1024 ** 3 }),
    400,
    'ComposeError',
  );
  weldrError(
    await start(a, { blueprint_name: 'base', compose_type: 'qcow2', size: -1 }),
    400,
    'ComposeError',
  );
  // The distro before the image type, in composer's words.
  a.store.blueprints.push({ ...blueprint, name: 'other', distro: 'fedora-40' });
  weldrError(
    await start(a, { blueprint_name: 'other', compose_type: 'vhd' }),
    400,
    'DistroError',
    'Unknown distribution: fedora-40 for arch x86_64',
  );
  a.store.blueprints.push({ ...blueprint, name: 'arm', architecture: 's390x' });
  weldrError(
    await start(a, { blueprint_name: 'arm', compose_type: 'qcow2' }),
    400,
    'DistroError',
    'Unknown distribution: debian-12 for arch s390x',
  );
  assert.equal(a.store.composes.list().total, 0);

  const types = await get(a, '/api/v0/compose/types');
  assert.equal(types.statusCode, 200);
  const names = (types.json() as { types: { name: string; enabled: boolean }[] }).types;
  assert.ok(names.some((x) => x.name === 'qcow2' && x.enabled));
  assert.ok(names.some((x) => x.name === 'debian-atomic-commit'));
  weldrError(
    await get(a, '/api/v0/compose/types?distro=fedora-40'),
    400,
    'DistroError',
    'Invalid distro: fedora-40',
  );
  // A distro that does not build the architecture: composer's "Unknown distribution".
  weldrError(
    await get(a, '/api/v0/compose/types?arch=s390x'),
    400,
    'DistroError',
    /^Unknown distribution: debian-\d+$/,
  );
});

test('compose start: ?test= other than 1 or 2, sizes that are not whole bytes or above the maximum: 400, nothing started', async (t) => {
  const a = await api(t);
  for (const query of ['?test=3', '?test=abc', '?test=0', '?test=1.0', '?test=%0A1']) {
    weldrError(
      await start(a, { blueprint_name: 'base', compose_type: 'qcow2' }, query),
      400,
      'InvalidChars',
      /^invalid test parameter: ".*" \(1 fakes a failed compose, 2 a finished one\)$/,
    );
  }
  for (const size of [true, '8 GiB', [1], { bytes: 1 }]) {
    weldrError(
      await start(a, { blueprint_name: 'base', compose_type: 'qcow2', size }),
      400,
      'ComposeError',
      /^size must be a whole number of bytes, got (a|an) /,
    );
  }
  for (const size of [1.5, 1e12, 2 ** 60]) {
    weldrError(
      await start(a, { blueprint_name: 'base', compose_type: 'qcow2', size }),
      400,
      'ComposeError',
      /size/,
    );
  }
  assert.equal(a.store.composes.list().total, 0, 'nothing started');
  assert.equal((await a.queue.counts()).queued, 0, 'nothing queued');
});

test('compose start checks the stored blueprint with the blueprint schema: BlueprintsError, nothing started', async (t) => {
  const a = await api(t);
  // A blueprint stored before a rule it breaks existed (here: written to the store directly).
  a.store.blueprints.push({ ...blueprint, name: 'old', customizations: { user: [{ name: 'a\nb' }] } });
  weldrError(
    await start(a, { blueprint_name: 'old', compose_type: 'qcow2' }),
    400,
    'BlueprintsError',
    /customizations\.user\[0\]\.name/,
  );
  assert.equal(a.store.composes.list().total, 0, 'nothing started');
});

test('compose ids in upper case: every Weldr compose route finds the compose', async (t) => {
  const a = await api(t);
  const finished = await startId(a, 'tar', '?test=2');
  const waiting = await startId(a, 'qcow2', '');
  await a.composes.pending();
  const up = (id: string) => id.toUpperCase();
  const status = (await get(a, `/api/v0/compose/status/${up(finished)},${up(waiting)}`)).json() as {
    uuids: { id: string }[];
  };
  assert.deepEqual(
    status.uuids.map((e) => e.id),
    [finished, waiting].sort(),
  );
  const info = await get(a, `/api/v0/compose/info/${up(finished)}`);
  assert.equal(info.statusCode, 200, info.body);
  assert.equal((info.json() as { id: string }).id, finished);
  for (const route of ['log', 'logs', 'metadata', 'results', 'image']) {
    const res = await get(a, `/api/v0/compose/${route}/${up(finished)}`);
    assert.equal(res.statusCode, 200, `${route}: ${res.body}`);
  }
  const cancel = await a.app.inject({ method: 'DELETE', url: `/api/v0/compose/cancel/${up(waiting)}` });
  assert.deepEqual(cancel.json(), { uuid: waiting, status: true });
  const del = await a.app.inject({
    method: 'DELETE',
    url: `/api/v0/compose/delete/${up(finished)},${up(waiting)}`,
  });
  assert.deepEqual(del.json(), {
    uuids: [
      { uuid: finished, status: true },
      { uuid: waiting, status: true },
    ],
    errors: [],
  });
  weldrError(await get(a, '/api/v0/compose/info/not-a-uuid'), 400, 'UnknownUUID');
});

test('compose start waits for the manifest: its errors at once and no compose kept; cancel meanwhile; the bound', async (t) => {
  const gated = gatedPlanner();
  const a = await startTestApi(
    t,
    {},
    { composes: { planner: gated.planner, planWaitSeconds: 1 }, lifecycle: false },
  );
  a.store.blueprints.push(blueprint, { versionGiven: '0.0.1' });
  a.store.blueprints.push({
    ...blueprint,
    name: 'broken',
    packages: [{ name: 'missing-tool', version: '*' }],
  });
  weldrError(
    await start(a, { blueprint_name: 'broken', compose_type: 'qcow2' }),
    500,
    'DepsolveError',
    /Unable to locate package missing-tool/,
  );
  weldrError(
    await start(a, { blueprint_name: 'base', compose_type: 'qcow2', size: 100 * 1024 ** 2 }),
    400,
    'ManifestCreationFailed',
    /too small/,
  );
  weldrError(
    await start(a, { blueprint_name: 'base', compose_type: 'debian-atomic-commit', ostree: { ref: 'a b' } }),
    400,
    'OSTreeOptionsError',
    /invalid ostree ref/,
  );
  assert.deepEqual((await get(a, '/api/v0/compose/queue')).json(), { new: [], run: [] });
  assert.deepEqual((await get(a, '/api/v0/compose/failed')).json(), { failed: [] });
  assert.deepEqual((await get(a, '/api/v1/compose/status/*')).json(), { uuids: [] });
  assert.equal(a.store.composes.list().total, 0);

  const id = await startId(a, 'qcow2', '');
  assert.equal(a.store.composes.get(id)?.state, 'QUEUED', 'queued when the answer arrives');
  const info = (await get(a, `/api/v0/compose/info/${id}`)).json() as {
    deps: { packages: { name: string }[] };
  };
  assert.ok(info.deps.packages.some((p) => p.name === 'qemu-utils' || p.name === 'linux-image-amd64'));
  const cancel = (uuid: string) => a.app.inject({ method: 'DELETE', url: `/api/v0/compose/cancel/${uuid}` });
  assert.equal((await cancel(id)).statusCode, 200);
  await a.composes.delete(id);

  // Cancelled while its manifest is made: the start answers the build_id of the cancelled compose.
  gated.close();
  const starting = start(a, { blueprint_name: 'base', compose_type: 'qcow2' });
  const uuid = await firstRow(a);
  assert.equal((await cancel(uuid)).statusCode, 200);
  gated.open();
  const started = await starting;
  assert.equal(started.statusCode, 200, started.body);
  assert.equal((started.json() as { build_id: string }).build_id, uuid);
  const failed = (await get(a, '/api/v0/compose/failed')).json() as { failed: { id: string }[] };
  assert.deepEqual(
    failed.failed.map((e) => e.id),
    [uuid],
  );
  assert.equal(await a.queue.getJob(`build-${uuid}`), undefined);
  await a.composes.delete(uuid);

  // Past the bound (1 s here): the build_id with a warning, the error later as a FAILED compose.
  gated.close();
  const slow = await start(a, { blueprint_name: 'broken', compose_type: 'qcow2' });
  assert.equal(slow.statusCode, 200, slow.body);
  const body = slow.json() as { build_id: string; warnings: string[] };
  assert.match(body.warnings[0] ?? '', /still being made/);
  gated.open();
  await a.composes.pending();
  const status = (await get(a, `/api/v0/compose/status/${body.build_id}`)).json() as {
    uuids: { queue_status: string }[];
  };
  assert.equal(status.uuids[0]?.queue_status, 'FAILED');
});

test('test composes (?test=1|2) make their manifest first: the same errors as a build, nothing kept; a test compose left PENDING by a restart ends FAILED', async (t) => {
  const gated = gatedPlanner();
  const a = await startTestApi(t, {}, { composes: { planner: gated.planner }, lifecycle: false });
  a.store.blueprints.push(blueprint, { versionGiven: '0.0.1' });
  a.store.blueprints.push({ ...blueprint, name: 'broken', packages: [{ name: 'missing-tool' }] });
  for (const query of ['?test=1', '?test=2']) {
    weldrError(
      await start(a, { blueprint_name: 'broken', compose_type: 'qcow2' }, query),
      500,
      'DepsolveError',
      'E: Unable to locate package missing-tool',
    );
    weldrError(
      await start(a, { blueprint_name: 'base', compose_type: 'qcow2', size: 100 * 1024 ** 2 }, query),
      400,
      'ManifestCreationFailed',
      /^failed to initialize osbuild manifest: .*too small/,
    );
    // An OSTree parent that is no commit checksum (composer's example sends a ref and no URL).
    weldrError(
      await start(
        a,
        {
          blueprint_name: 'base',
          compose_type: 'debian-atomic-commit',
          ostree: { ref: 'refid', parent: 'parentid', url: '' },
        },
        query,
      ),
      400,
      'OSTreeOptionsError',
      "ostree parent 'parentid' is not a commit checksum (64 hexadecimal digits)",
    );
  }
  assert.equal(a.store.composes.list().total, 0, 'nothing kept of the refused composes');

  // A test compose that passes has the manifest a build would have, and its packages.
  const id = await startId(a, 'tar', '?test=2');
  const compose = a.store.composes.get(id);
  assert.equal(compose?.state, 'COMPLETED');
  assert.deepEqual(compose?.build?.artifact, { filename: 'root.tar', mimeType: 'application/x-tar' });
  const meta = await untar((await get(a, `/api/v0/compose/metadata/${id}`)).rawPayload);
  const manifest = JSON.parse(meta(`${id}.json`).toString()) as { pipelines: { name: string }[] };
  assert.ok(
    manifest.pipelines.some((p) => p.name === 'os'),
    JSON.stringify(manifest.pipelines),
  );
  const info = (await get(a, `/api/v0/compose/info/${id}`)).json() as {
    deps: { packages: { name: string }[] };
  };
  assert.ok(info.deps.packages.length > 0, JSON.stringify(info.deps));

  // The service stops while a test compose's manifest is made: at start-up it is ended FAILED,
  // never planned into a build.
  await a.composes.delete(id);
  gated.close();
  const starting = start(a, { blueprint_name: 'base', compose_type: 'tar' }, '?test=2');
  const uuid = await firstRow(a);
  a.composes.replan(a.store.composes.get(uuid) as Compose);
  gated.open();
  const started = await starting;
  assert.equal(started.statusCode, 200, started.body);
  const row = a.store.composes.get(uuid);
  assert.equal(row?.state, 'FAILED');
  assert.deepEqual(row?.error, {
    code: 'FORGE_ERR_TEST_COMPOSE',
    message: 'the service stopped while the manifest of this test compose was made',
  });
  assert.equal(await a.queue.getJob(`build-${uuid}`), undefined, 'never queued');
});

test('fake composes: lists, status filters, info, logs, tars, image with ranges, cancel, delete, uploads', async (t) => {
  const a = await api(t);
  const failed = await startId(a, 'qcow2', '?test=1');
  const upload = await start(
    a,
    {
      blueprint_name: 'base',
      compose_type: 'qcow2',
      upload: { provider: 'aws', image_name: 'x', settings: {} },
    },
    '?test=1',
    'v1',
  );
  assert.match((upload.json() as { warnings: string[] }).warnings[0] ?? '', /not supported/);
  await a.composes.delete((upload.json() as { build_id: string }).build_id);
  const finished = await startId(a, 'tar', '?test=2');
  const waiting = await startId(a, 'qcow2', '');
  await a.composes.pending();

  // lists
  const queue = (await get(a, '/api/v0/compose/queue')).json() as { new: { id: string }[]; run: unknown[] };
  assert.deepEqual(
    queue.new.map((e) => e.id),
    [waiting],
  );
  assert.deepEqual(queue.run, []);
  const fin = (await get(a, '/api/v1/compose/finished')).json() as { finished: Record<string, unknown>[] };
  assert.equal(fin.finished.length, 1);
  const entry = fin.finished[0] as Record<string, unknown>;
  assert.equal(entry.id, finished);
  assert.equal(entry.blueprint, 'base');
  assert.equal(entry.version, '0.0.1');
  assert.equal(entry.compose_type, 'tar');
  assert.equal(entry.queue_status, 'FINISHED');
  assert.equal(entry.image_size, fakeImage(finished).length);
  assert.equal(typeof entry.job_created, 'number');
  assert.ok((entry.job_finished as number) >= (entry.job_created as number));
  assert.deepEqual(entry.uploads, [], 'v1 entries have uploads');
  const failedList = (await get(a, '/api/v0/compose/failed')).json() as { failed: Record<string, unknown>[] };
  assert.deepEqual(
    failedList.failed.map((e) => [e.id, e.queue_status, e.image_size, 'uploads' in e]),
    [[failed, 'FAILED', 0, false]],
  );

  // status
  const all = (await get(a, '/api/v0/compose/status/*')).json() as { uuids: { id: string }[] };
  assert.deepEqual(
    all.uuids.map((e) => e.id),
    [failed, finished, waiting].sort(),
  );
  const someRes = await get(
    a,
    `/api/v0/compose/status/${finished},${failed},00000000-0000-0000-0000-000000000000`,
  );
  assert.equal(someRes.statusCode, 200, someRes.body);
  const some = someRes.json() as {
    uuids: { id: string }[];
  };
  assert.deepEqual(
    some.uuids.map((e) => e.id),
    [failed, finished].sort(),
    'unknown ids left out',
  );
  const filtered = (
    await get(a, '/api/v0/compose/status/*?status=WAITING&type=qcow2&blueprint=base')
  ).json() as {
    uuids: { id: string }[];
  };
  assert.deepEqual(
    filtered.uuids.map((e) => e.id),
    [waiting],
  );
  assert.deepEqual((await get(a, '/api/v0/compose/status/*?blueprint=other')).json(), { uuids: [] });
  weldrError(
    await get(a, '/api/v0/compose/status/not-a-uuid'),
    400,
    'UnknownUUID',
    'not-a-uuid is not a valid build uuid',
  );

  // info
  const info = (await get(a, `/api/v0/compose/info/${finished}`)).json() as Record<string, unknown>;
  assert.equal(info.id, finished);
  assert.equal(info.config, '');
  assert.equal(info.commit, '');
  assert.equal(info.compose_type, 'tar');
  assert.equal(info.queue_status, 'FINISHED');
  assert.equal((info.blueprint as { name: string }).name, 'base');
  assert.deepEqual(info.deps, { packages: [] });
  weldrError(await get(a, '/api/v0/compose/info/00000000-0000-0000-0000-000000000000'), 400, 'UnknownUUID');

  // log: the quirks of WAITING (200 with an error) and RUNNING (a text line)
  const wait = await get(a, `/api/v0/compose/log/${waiting}`);
  weldrError(
    { statusCode: 400, json: () => wait.json() },
    400,
    'BuildInWrongState',
    `Build ${waiting} has not started yet. No logs to view.`,
  );
  assert.equal(wait.statusCode, 200);
  const finLog = await get(a, `/api/v0/compose/log/${finished}`);
  assert.equal(finLog.statusCode, 200);
  assert.match(String(finLog.headers['content-type']), /^application\/json; charset=utf-8/);
  assert.match(finLog.body, /\?test=2/);
  assert.equal((await get(a, `/api/v0/compose/log/${finished}?size=0`)).body, '');

  // tars
  weldrError(await get(a, `/api/v0/compose/logs/${waiting}`), 400, 'BuildInWrongState');
  const logs = await get(a, `/api/v0/compose/logs/${failed}`);
  assert.equal(logs.headers['content-disposition'], `attachment; filename=${failed}-logs.tar`);
  assert.equal(Number(logs.headers['content-length']), logs.rawPayload.length);
  assert.match((await untar(logs.rawPayload))('logs/osbuild.log').toString(), /test=1/);
  const meta = await get(a, `/api/v0/compose/metadata/${finished}`);
  assert.equal(meta.headers['content-disposition'], `attachment; filename=${finished}-metadata.tar`);
  assert.deepEqual(
    JSON.parse((await untar(meta.rawPayload))(`${finished}.json`).toString()),
    a.store.composes.get(finished)?.manifest,
  );
  const results = await untar((await get(a, `/api/v0/compose/results/${finished}`)).rawPayload);
  assert.deepEqual(results(`${finished}-root.tar`), fakeImage(finished));
  assert.ok(results('logs/osbuild.log').length > 0);

  // image, whole and in ranges
  const image = fakeImage(finished);
  const whole = await get(a, `/api/v0/compose/image/${finished}`);
  assert.equal(whole.statusCode, 200);
  assert.equal(whole.headers['content-disposition'], `attachment; filename=${finished}-root.tar`);
  assert.equal(whole.headers['content-type'], 'application/x-tar');
  assert.equal(Number(whole.headers['content-length']), image.length);
  assert.deepEqual(whole.rawPayload, image);
  const part = await get(a, `/api/v0/compose/image/${finished}`, { range: 'bytes=5-9' });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 5-9/${image.length}`);
  assert.deepEqual(part.rawPayload, image.subarray(5, 10));
  const tail = await get(a, `/api/v0/compose/image/${finished}`, { range: 'bytes=-4' });
  assert.deepEqual(tail.rawPayload, image.subarray(image.length - 4));
  const rest = await get(a, `/api/v0/compose/image/${finished}`, { range: 'bytes=10-' });
  assert.deepEqual(rest.rawPayload, image.subarray(10));
  const beyond = await get(a, `/api/v0/compose/image/${finished}`, { range: `bytes=${image.length}-` });
  assert.equal(beyond.statusCode, 416);
  assert.equal(beyond.headers['content-range'], `bytes */${image.length}`);
  weldrError(
    await get(a, `/api/v0/compose/image/${failed}`),
    400,
    'BuildInWrongState',
    `Build ${failed} is in wrong state: FAILED`,
  );
  weldrError(await get(a, '/api/v0/compose/image/00000000-0000-0000-0000-000000000000'), 400, 'UnknownUUID');

  // cancel
  weldrError(
    await a.app.inject({ method: 'DELETE', url: `/api/v0/compose/cancel/${finished}` }),
    400,
    'BuildInWrongState',
    `Build ${finished} is not in WAITING or RUNNING.`,
  );
  weldrError(
    await a.app.inject({ method: 'DELETE', url: '/api/v0/compose/cancel/nope' }),
    400,
    'UnknownUUID',
  );
  const cancel = await a.app.inject({ method: 'DELETE', url: `/api/v0/compose/cancel/${waiting}` });
  assert.deepEqual(cancel.json(), { uuid: waiting, status: true });
  assert.equal(a.store.composes.get(waiting)?.state, 'CANCELLED');
  assert.equal(await a.queue.getJob(`build-${waiting}`), undefined);

  // delete: always 200, errors per uuid
  const running = await startId(a, 'qcow2', '');
  await a.composes.pending();
  a.store.composes.transition(running, 'BUILDING');
  assert.equal((await get(a, `/api/v0/compose/log/${running}`)).body, `Build ${running} is still running.\n`);
  const del = await a.app.inject({
    method: 'DELETE',
    url: `/api/v0/compose/delete/${finished},${running},bad!,00000000-0000-0000-0000-000000000000`,
  });
  assert.equal(del.statusCode, 200);
  assert.deepEqual(del.json(), {
    uuids: [{ uuid: finished, status: true }],
    errors: [
      { id: 'BuildInWrongState', msg: `Compose ${running} is not in FINISHED or FAILED.` },
      { id: 'UnknownUUID', msg: 'bad! is not a valid uuid' },
      { id: 'UnknownUUID', msg: "compose 00000000-0000-0000-0000-000000000000 doesn't exist" },
    ],
  });
  assert.equal(a.store.composes.get(finished), undefined);

  // the upload routes: v1 only, 501 with an empty body
  for (const [method, url] of [
    ['POST', `/compose/uploads/schedule/${failed}`],
    ['GET', `/upload/info/${failed}`],
    ['GET', '/upload/providers'],
    ['DELETE', '/upload/providers/delete/aws/default'],
  ] as const) {
    const v1 = await a.app.inject({ method, url: `/api/v1${url}` });
    assert.equal(v1.statusCode, 501, url);
    assert.equal(v1.body, '');
    assert.equal((await a.app.inject({ method, url: `/api/v0${url}` })).statusCode, 404);
  }
});

test("composer's texts: unknown and malformed ids, wrong states, a missing image; the tars typed application/x-tar", async (t) => {
  const a = await api(t);
  const finished = await startId(a, 'tar', '?test=2');
  const failed = await startId(a, 'tar', '?test=1');
  const waiting = await startId(a, 'qcow2', '');
  await a.composes.pending();
  const unknown = '42000000-0000-0000-0000-000000000000';
  const bad = '30000000-0000-0000-0000';
  const error = (id: string, msg: string) => ({ status: false, errors: [{ id, msg }] });
  const answer = async (method: 'GET' | 'DELETE', url: string) => {
    const res = await a.app.inject({ method, url });
    return [res.statusCode, res.json()];
  };
  for (const route of ['log', 'logs', 'metadata', 'results', 'image']) {
    assert.deepEqual(await answer('GET', `/api/v1/compose/${route}/${unknown}`), [
      400,
      error('UnknownUUID', `Compose ${unknown} doesn't exist`),
    ]);
    assert.deepEqual(await answer('GET', `/api/v1/compose/${route}/${bad}`), [
      400,
      error('UnknownUUID', `${bad} is not a valid build uuid`),
    ]);
  }
  assert.deepEqual(await answer('DELETE', `/api/v1/compose/cancel/${unknown}`), [
    400,
    error('UnknownUUID', `Compose ${unknown} doesn't exist`),
  ]);
  // compose/info says "not a valid build uuid" of an unknown id too, as composer does.
  assert.deepEqual(await answer('GET', `/api/v1/compose/info/${unknown}`), [
    400,
    error('UnknownUUID', `${unknown} is not a valid build uuid`),
  ]);
  assert.deepEqual(await answer('DELETE', `/api/v0/compose/delete/${bad},${unknown}`), [
    200,
    {
      uuids: [],
      errors: [
        { id: 'UnknownUUID', msg: `${bad} is not a valid uuid` },
        { id: 'UnknownUUID', msg: `compose ${unknown} doesn't exist` },
      ],
    },
  ]);

  assert.deepEqual(await answer('GET', '/api/v1/compose/status/*?blueprint=a%2Fb'), [
    400,
    error('InvalidChars', 'Invalid characters in API path'),
  ]);

  assert.deepEqual(await answer('GET', `/api/v1/compose/logs/${waiting}`), [
    400,
    error('BuildInWrongState', `Build ${waiting} not in FINISHED or FAILED state.`),
  ]);
  for (const route of ['metadata', 'results']) {
    assert.deepEqual(await answer('GET', `/api/v1/compose/${route}/${waiting}`), [
      400,
      error('BuildInWrongState', `Build ${waiting} is in wrong state: WAITING`),
    ]);
  }

  for (const [route, id] of [
    ['logs', failed],
    ['metadata', finished],
    ['results', finished],
  ] as const) {
    const res = await get(a, `/api/v0/compose/${route}/${id}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/x-tar', route);
  }

  // An image gone from disk: a 400 both clients read as an error, for the image and the results.
  const image = a.store.artifacts.list(finished)[0];
  assert.ok(image);
  rmSync(image.path);
  for (const route of ['image', 'results']) {
    assert.deepEqual(await answer('GET', `/api/v0/compose/${route}/${finished}`), [
      400,
      error(
        'InternalServerError',
        `Error accessing image file for compose ${finished}: the image of ${finished} is missing`,
      ),
    ]);
  }
});

test('the Python composer-cli (lorax) requests: start, start-ostree, list, status, types, info, log, the tars, delete', async (t) => {
  const a = await api(t);
  // What its post_url_json sends: `compose start --test=2 base tar`, and `compose start-ostree`,
  // which always sends a ref and a parent, empty when not given.
  const body = { blueprint_name: 'base', compose_type: 'tar', branch: 'master' };
  const finished = await start(a, body, '?test=2', 'v1');
  assert.equal(finished.statusCode, 200, finished.body);
  const ostree = await start(
    a,
    { ...body, compose_type: 'debian-atomic-commit', ostree: { ref: '', parent: '' } },
    '?test=1',
    'v1',
  );
  assert.equal(ostree.statusCode, 200, ostree.body);
  const [done, failed] = [finished, ostree].map((r) => (r.json() as { build_id: string }).build_id);
  const raw = await a.composes.submitManifest({
    manifest: TINY_MANIFEST,
    exports: ['image'],
    filename: 'x.img',
  });

  // `compose list` and `compose status`: queue, finished and failed, and the keys they read.
  const queue = (await get(a, '/api/v1/compose/queue')).json() as { new: unknown[]; run: unknown[] };
  const fin = (await get(a, '/api/v1/compose/finished')).json() as { finished: unknown[] };
  const fail = (await get(a, '/api/v1/compose/failed')).json() as { failed: unknown[] };
  const entries = [...queue.run, ...queue.new, ...fin.finished, ...fail.failed] as Record<string, unknown>[];
  assert.deepEqual(entries.map((e) => e.id).sort(), [done, failed, raw.uuid].sort());
  for (const e of entries) {
    for (const key of ['id', 'queue_status', 'blueprint', 'version', 'compose_type', 'image_size']) {
      assert.ok(key in e, `${key} in ${JSON.stringify(e)}`);
    }
    assert.equal(typeof e.job_created, 'number');
  }
  const types = (await get(a, '/api/v1/compose/types')).json() as {
    types: { name: string; enabled: boolean }[];
  };
  assert.ok(types.types.some((x) => x.name === 'tar' && x.enabled));

  // `compose info`: the blueprint's packages and modules, each dependency's NEVRA keys; a compose
  // of a raw manifest has no blueprint, and the lists are there all the same.
  for (const id of [done, raw.uuid]) {
    const info = (await get(a, `/api/v1/compose/info/${id}`)).json() as {
      blueprint: { name: string; version: string; packages: unknown[]; modules: unknown[] };
      deps: { packages: Record<string, unknown>[] };
    };
    assert.ok(Array.isArray(info.blueprint.packages) && Array.isArray(info.blueprint.modules), id);
    assert.equal(typeof info.blueprint.version, 'string');
    for (const d of info.deps.packages) {
      for (const key of ['name', 'epoch', 'version', 'release', 'arch']) assert.ok(key in d, key);
    }
  }

  // `compose log UUID` asks for the last 1024 KiB; `metadata`, `results`, `logs` and `image` need a
  // content-disposition filename.
  const log = await get(a, `/api/v1/compose/log/${done}?size=1024`);
  assert.equal(log.statusCode, 200);
  assert.match(log.body, /\?test=2/);
  for (const [route, id, file] of [
    ['metadata', done, `${done}-metadata.tar`],
    ['results', done, `${done}.tar`],
    ['logs', failed, `${failed}-logs.tar`],
    ['image', done, `${done}-root.tar`],
  ] as const) {
    const res = await get(a, `/api/v1/compose/${route}/${id}`);
    assert.equal(res.statusCode, 200, `${route}: ${res.body}`);
    assert.equal(res.headers['content-disposition'], `attachment; filename=${file}`);
  }
  // Its download reads only a 400 as an error: every refusal of these routes is one.
  for (const route of ['metadata', 'results', 'logs', 'image']) {
    assert.equal((await get(a, `/api/v1/compose/${route}/${raw.uuid}`)).statusCode, 400, route);
  }

  // `compose delete A,B`: the errors it prints are each one's msg.
  const del = await a.app.inject({ method: 'DELETE', url: `/api/v1/compose/delete/${done},${raw.uuid}` });
  assert.deepEqual(del.json(), {
    uuids: [{ uuid: done, status: true }],
    errors: [{ id: 'BuildInWrongState', msg: `Compose ${raw.uuid} is not in FINISHED or FAILED.` }],
  });
});

test('a real compose: queued, built by a worker, its image and manifest downloaded', async (t) => {
  const a = await api(t, true);
  await startTestWorker(
    a,
    uploadingBuild(() => a),
  );
  const id = await startId(a, 'qcow2', '');
  await waitForState(a, id, 'COMPLETED');
  const status = (await get(a, `/api/v1/compose/status/${id}`)).json() as {
    uuids: { queue_status: string; image_size: number }[];
  };
  assert.equal(status.uuids[0]?.queue_status, 'FINISHED');
  assert.equal(status.uuids[0]?.image_size, 4 * 1024 ** 3, 'the requested size');
  const image = await get(a, `/api/v0/compose/image/${id}`);
  assert.equal(image.headers['content-type'], 'application/x-qemu-disk');
  assert.equal(image.body, `image bytes of ${id}\n`);
  assert.match((await get(a, `/api/v0/compose/log/${id}`)).body, new RegExp(`building ${id}`));
  const meta = await untar((await get(a, `/api/v0/compose/metadata/${id}`)).rawPayload);
  assert.deepEqual(JSON.parse(meta(`${id}.json`).toString()), TINY_MANIFEST);
});

test("start with the real planner: a manifest from apt (not from another distro's source), queued; compose/info lists its packages; an unknown package is a DepsolveError", {
  skip: noDebianMirror(),
}, async (t) => {
  // No bound in practice: a cold apt root may take minutes here, and this test wants the outcome.
  const a = await startTestApi(t, {}, { composes: { planWaitSeconds: 3600 }, lifecycle: false });
  a.store.blueprints.push(
    { ...blueprint, packages: [{ name: 'tmux', version: '*' }] },
    { versionGiven: '0.0.1' },
  );
  // A source for another distro only, on a port where nothing listens: apt would fail on it if this
  // debian-12 compose used it.
  a.store.sources.put({ name: 'trixie-only', url: 'http://127.0.0.1:9/debian', distros: ['debian-13'] });
  const id = await startId(a, 'tar', '');
  const compose = a.store.composes.get(id);
  assert.equal(compose?.state, 'QUEUED', JSON.stringify(compose?.error));
  const plan = await planOf(a, id, `build-${id}`);
  assert.deepEqual(plan.exports, ['archive']);
  assert.deepEqual(plan.artifact, { filename: 'root.tar', mimeType: 'application/x-tar' });
  assert.ok(plan.checkpoints.includes('org.osbuild.apt'), plan.checkpoints.join(' '));
  const info = (await get(a, `/api/v0/compose/info/${id}`)).json() as {
    deps: {
      packages: {
        name: string;
        epoch: number;
        version: string;
        release: string;
        arch: string;
        remote_location: string;
        checksum: string;
      }[];
    };
  };
  const byName = new Map(info.deps.packages.map((p) => [p.name, p]));
  assert.ok(byName.has('tmux') && byName.has('base-files'), [...byName.keys()].join(' '));
  // Names and versions as apt's index has them, not as the .deb URL spells them.
  const libstdcxx = byName.get('libstdc++6');
  assert.ok(libstdcxx, 'libstdc++6 by its name, not libstdc%2b%2b6');
  assert.match(libstdcxx.remote_location, /libstdc%2b%2b6_/);
  assert.equal(byName.get('zlib1g')?.epoch, 1, 'the epoch of zlib1g');
  assert.equal(byName.get('adduser')?.release, '', 'a native package has no release');
  assert.match(byName.get('adduser')?.version ?? '', /^\d[^-]*$/);
  for (const p of info.deps.packages) {
    assert.match(p.checksum, /^sha256:[0-9a-f]{64}$/);
    assert.doesNotMatch(p.name, /%/);
  }
  // Size and repository are the plan's, served to the worker with the same packages.
  const planned = plan.layers.flat();
  assert.deepEqual(planned.map((p) => p.name).sort(), [...byName.keys()].sort());
  const zlib = planned.find((p) => p.name === 'zlib1g');
  assert.ok(zlib && zlib.size > 0, 'zlib1g has its size from the Packages index');
  assert.match(zlib.repository, /\S/, 'zlib1g has its repository');
  assert.ok(
    plan.layers[2]?.some((p) => p.name === 'tmux'),
    "tmux is in the blueprint's layer",
  );

  a.store.blueprints.push({ ...blueprint, name: 'unknown', packages: [{ name: 'forge-no-such-package' }] });
  weldrError(
    await start(a, { blueprint_name: 'unknown', compose_type: 'tar' }),
    500,
    'DepsolveError',
    /forge-no-such-package/,
  );
  assert.deepEqual(
    a.store.composes.list().items.map((c) => c.uuid),
    [id],
    'nothing kept of the refused compose',
  );
});
