import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BuildResult } from '@debian-forge/queue';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import { listen } from '../server.ts';
import {
  type Build,
  planOf,
  startTestWorker,
  tinyPlanner,
  uploadArtifact,
  uploadingBuild,
  waitForState,
} from '../services/compose.fixture.ts';

const MANIFEST = { version: '2', pipelines: [{ name: 'image', stages: [] }], sources: {} };
const submit = (api: TestApi, body: Record<string, unknown>) =>
  api.app.inject({ method: 'POST', url: '/api/forge/v1/manifests', payload: body });

/** A build that reports progress, then waits for `open()` before it uploads and succeeds. */
function gatedBuild(api: () => TestApi) {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const upload = uploadingBuild(api);
  const build: Build = async (ctx) => {
    await ctx.progress(1, 3, 'pipeline image: stage 2 of 3 (org.osbuild.copy)');
    await gate;
    return upload(ctx);
  };
  return { build, open: () => open() };
}

test('POST /manifests queues a raw manifest; a bad one gets 400 with the validation errors', async (t) => {
  const api = await startTestApi(t);
  const ok = await submit(api, {
    manifest: MANIFEST,
    exports: ['image'],
    filename: 'disk.raw',
    priority: 700,
  });
  assert.equal(ok.statusCode, 201, ok.body);
  const view = ok.json();
  assert.equal(view.image_type, 'manifest');
  assert.equal(view.priority, 700);
  assert.equal(view.blueprint, null);
  assert.ok(['PENDING', 'QUEUED'].includes(view.state));
  await waitForState(api, view.id, 'QUEUED');
  const job = await api.queue.getJob(`build-${view.id}`);
  // The job names the compose and nothing of what to build; the API serves that to the worker.
  assert.deepEqual(Object.keys(job?.payload ?? {}).sort(), ['composeId', 'priority', 'resources', 'type']);
  assert.equal(job?.payload?.composeId, view.id);
  assert.deepEqual(await planOf(api, view.id, `build-${view.id}`), {
    compose_id: view.id,
    job_id: `build-${view.id}`,
    image_type: 'manifest',
    manifest: MANIFEST,
    exports: ['image'],
    artifact: { filename: 'disk.raw', mimeType: 'application/octet-stream' },
    checkpoints: [],
    layers: [],
  });

  const bad = await submit(api, {
    manifest: {
      version: '2',
      pipelines: [{ name: 'image', stages: [{ type: 'org.osbuild.nope' }] }],
      bogus: 1,
    },
    exports: ['image'],
    filename: 'disk.raw',
  });
  assert.equal(bad.statusCode, 400, bad.body);
  assert.equal(bad.json().code, 'FORGE_ERR_MANIFEST_INVALID');
  assert.ok(bad.json().details, 'the validation errors are in details');

  const noExports = await submit(api, { manifest: MANIFEST, filename: 'disk.raw' });
  assert.equal(noExports.statusCode, 400);
  const outOfRange = await submit(api, {
    manifest: MANIFEST,
    exports: ['image'],
    filename: 'x',
    priority: 10_000,
  });
  assert.equal(outOfRange.statusCode, 400);
});

test('GET /composes/{uuid}: state and times, progress while building, artifacts when done', async (t) => {
  const api = await startTestApi(t);
  const gated = gatedBuild(() => api);
  await startTestWorker(api, gated.build);
  const { id } = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'disk.raw' })).json();
  await waitForState(api, id, 'BUILDING');
  await api.lifecycle?.idle();
  const get = () => api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${id}` });
  for (let i = 0; i < 100 && (await get()).json().progress === null; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const building = (await get()).json();
  assert.equal(building.state, 'BUILDING');
  assert.equal(building.worker, 'test-worker');
  assert.deepEqual(building.progress, {
    done: 1,
    total: 3,
    message: 'pipeline image: stage 2 of 3 (org.osbuild.copy)',
  });
  assert.ok(building.state_times.QUEUED && building.state_times.BUILDING && building.started_at);
  gated.open();
  await waitForState(api, id, 'COMPLETED');
  const done = (await get()).json();
  assert.equal(done.progress, null);
  assert.equal(done.artifacts.length, 1);
  assert.equal(done.artifacts[0].filename, 'disk.raw');
  assert.match(done.artifacts[0].sha256, /^[0-9a-f]{64}$/);
  assert.ok(done.finished_at);
  // The image is the service's own: 0600 in a 0700 directory.
  assert.equal(statSync(join(api.config.artifactsDir, id)).mode & 0o777, 0o700);
  assert.equal(statSync(join(api.config.artifactsDir, id, 'disk.raw')).mode & 0o777, 0o600);

  const unknown = await api.app.inject({ method: 'GET', url: '/api/forge/v1/composes/no-such-compose' });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().code, 'FORGE_ERR_COMPOSE_NOT_FOUND');
});

test('GET /composes/{uuid}: an OSTree compose shows its ref (the default when none was named), parent and URL; others null', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  api.store.blueprints.push(
    { name: 'base', version: '0.0.1', packages: [], modules: [], groups: [] },
    { versionGiven: '0.0.1' },
  );
  const parent = 'a'.repeat(64);
  const start = async (body: Record<string, unknown>) => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/api/v1/compose?test=2',
      payload: { blueprint_name: 'base', branch: 'master', ...body },
    });
    assert.equal(res.statusCode, 200, res.body);
    const id = (res.json() as { build_id: string }).build_id;
    return (await api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${id}` })).json();
  };

  const named = await start({
    compose_type: 'debian-atomic-commit',
    ostree: { ref: 'example/stable', parent, url: 'https://updates.example.org/repo' },
  });
  assert.deepEqual(named.ostree, {
    ref: 'example/stable',
    parent,
    url: 'https://updates.example.org/repo',
    commit: null,
  });
  const defaulted = await start({ compose_type: 'debian-atomic-commit', ostree: { ref: '', parent: '' } });
  assert.match(defaulted.ostree.ref, /^debian\/\d+\/[\w-]+\/atomic$/);
  assert.equal(defaulted.ostree.parent, null);
  assert.equal((await start({ compose_type: 'tar' })).ostree, null);
  const raw = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'disk.raw' })).json();
  assert.equal(raw.ostree, null);
});

/** A build that uploads its artifact and reports `ostreeCommit` as the commit it made. */
function committingBuild(api: () => TestApi, ostreeCommit: unknown): Build {
  const upload = uploadingBuild(api);
  return async (ctx) => ({ ...(await upload(ctx)), ostreeCommit }) as BuildResult;
}

/** Starts a debian-atomic-commit compose of blueprint `base` over Weldr; returns its id. */
async function startCommit(api: TestApi, ostree: Record<string, string> = {}): Promise<string> {
  const res = await api.app.inject({
    method: 'POST',
    url: '/api/v1/compose',
    payload: { blueprint_name: 'base', compose_type: 'debian-atomic-commit', branch: 'master', ostree },
  });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { build_id: string }).build_id;
}

const pushBase = (api: TestApi) =>
  api.store.blueprints.push(
    { name: 'base', version: '0.0.1', packages: [], modules: [], groups: [] },
    { versionGiven: '0.0.1' },
  );

test('GET /composes/{uuid}: the OSTree commit the worker reported is kept; a result with anything else for it fails the compose', async (t) => {
  const commit = '0123456789abcdef'.repeat(4);
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  pushBase(api);
  const worker = await startTestWorker(
    api,
    committingBuild(() => api, commit),
    { own: true },
  );
  const id = await startCommit(api, { ref: 'example/stable' });
  await waitForState(api, id, 'COMPLETED');
  await worker.close();
  const view = (await api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${id}` })).json();
  assert.deepEqual(view.ostree, { ref: 'example/stable', parent: null, url: null, commit });

  // A worker's result is checked against the contract: junk in place of a checksum is no commit.
  for (const junk of [commit.toUpperCase(), `${commit}; rm -rf /`, 'a'.repeat(65), 7]) {
    const hostile = await startTestWorker(
      api,
      committingBuild(() => api, junk),
      { own: true },
    );
    const bad = await startCommit(api);
    await waitForState(api, bad, 'FAILED');
    await hostile.close();
    const failed = api.store.composes.get(bad);
    assert.ok(failed);
    assert.equal((failed.error as { code: string }).code, 'FORGE_ERR_INVALID_JOB', JSON.stringify(junk));
    assert.equal(failed.ostree.commit, null);
  }
});

test('priority (PUT and POST) of a waiting compose, cancel, and what a finished compose refuses', async (t) => {
  const api = await startTestApi(t);
  const { id } = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'x' })).json();
  await waitForState(api, id, 'QUEUED');
  const url = `/api/forge/v1/composes/${id}/priority`;
  let res = await api.app.inject({ method: 'PUT', url, payload: { priority: 900 } });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().priority, 900);
  assert.equal((await api.queue.getJob(`build-${id}`))?.payload?.priority, 900);
  res = await api.app.inject({ method: 'POST', url, payload: { priority: 100 } });
  assert.equal(res.json().priority, 100);
  res = await api.app.inject({ method: 'PUT', url, payload: { priority: 'high' } });
  assert.equal(res.statusCode, 400);

  res = await api.app.inject({ method: 'POST', url: `/api/forge/v1/composes/${id}/cancel` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().state, 'CANCELLED');
  assert.equal(res.json().error.code, 'FORGE_ERR_CANCELLED');
  assert.equal(await api.queue.getJob(`build-${id}`), undefined, 'the queued job is gone');
  res = await api.app.inject({ method: 'POST', url: `/api/forge/v1/composes/${id}/cancel` });
  assert.equal(res.statusCode, 409);
  res = await api.app.inject({ method: 'PUT', url, payload: { priority: 5 } });
  assert.equal(res.statusCode, 409);
  res = await api.app.inject({ method: 'POST', url: '/api/forge/v1/composes/nope/cancel' });
  assert.equal(res.statusCode, 404);
});

test('GET /composes/{uuid}/plan serves a queued compose to its own job only: unknown 404, another job or state 409', async (t) => {
  const api = await startTestApi(t, {}, { lifecycle: false });
  const { id } = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'x' })).json();
  await waitForState(api, id, 'QUEUED');
  const plan = (job: string, uuid = id) =>
    api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${uuid}/plan?job=${job}` });
  const res = await plan(`build-${id}`);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().artifact.filename, 'x');

  const refusals: [string, Awaited<ReturnType<typeof plan>>, number, string][] = [
    ['unknown compose', await plan('build-nope', 'nope'), 404, 'FORGE_ERR_COMPOSE_NOT_FOUND'],
    ['another job', await plan('build-other'), 409, 'FORGE_ERR_COMPOSE_JOB'],
    ['no job', await api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${id}/plan` }), 400, ''],
  ];
  api.store.composes.transition(id, 'BUILDING');
  assert.equal((await plan(`build-${id}`)).statusCode, 200, 'BUILDING: its worker may ask again');
  api.store.composes.transition(id, 'COMPLETED');
  refusals.push(['a finished compose', await plan(`build-${id}`), 409, 'FORGE_ERR_COMPOSE_STATE']);
  for (const [what, answer, status, code] of refusals) {
    assert.equal(answer.statusCode, status, `${what}: ${answer.body}`);
    if (code) assert.equal(answer.json().code, code, what);
  }
});

test('GET /workers and GET /queue show the workers, their load and the job counts', async (t) => {
  const api = await startTestApi(t);
  const empty = await api.app.inject({ method: 'GET', url: '/api/forge/v1/workers' });
  assert.deepEqual(empty.json(), { workers: [] });
  const gated = gatedBuild(() => api);
  await startTestWorker(api, gated.build);
  const first = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'x' })).json();
  await waitForState(api, first.id, 'BUILDING');
  const second = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'x' })).json();
  await waitForState(api, second.id, 'QUEUED');

  let workers = (await api.app.inject({ method: 'GET', url: '/api/forge/v1/workers' })).json().workers;
  for (let i = 0; i < 50 && workers[0]?.active_jobs.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    workers = (await api.app.inject({ method: 'GET', url: '/api/forge/v1/workers' })).json().workers;
  }
  assert.equal(workers.length, 1);
  assert.equal(workers[0].name, 'test-worker');
  assert.deepEqual(workers[0].resources, { cpus: 2, memory_mib: 4096, disk_gib: 50 });
  assert.ok(workers[0].free.cpus < 2, 'the running job takes some of it');
  assert.deepEqual(workers[0].active_jobs, [{ job_id: `build-${first.id}`, compose: first.id }]);
  assert.ok(Date.parse(workers[0].seen_at) > Date.now() - 60_000);

  const counts = (await api.app.inject({ method: 'GET', url: '/api/forge/v1/queue' })).json();
  assert.deepEqual(counts, { queued: 1, active: 1, completed: 0, failed: 0, workers: 1 });
  gated.open();
  await waitForState(api, second.id, 'COMPLETED');
  await api.lifecycle?.idle();
  const after = (await api.app.inject({ method: 'GET', url: '/api/forge/v1/queue' })).json();
  assert.deepEqual(after, { queued: 0, active: 0, completed: 2, failed: 0, workers: 1 });
});

interface Sse {
  events: { event: string; data: Record<string, unknown> }[];
  comments: string[];
  ended: Promise<void>;
  status: number;
}

/** Opens `path` on the API's unix socket and collects the server-sent events until the server ends. */
function openStream(socketPath: string, path: string): Promise<Sse> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path }, (res) => {
        const sse: Sse = { events: [], comments: [], status: res.statusCode ?? 0, ended: Promise.resolve() };
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = Object.fromEntries(
              block
                .split('\n')
                .filter((l) => !l.startsWith(':'))
                .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
            );
            if (block.startsWith(':')) sse.comments.push(block.slice(1).trim());
            else sse.events.push({ event: fields.event ?? '', data: JSON.parse(fields.data ?? 'null') });
            end = buffer.indexOf('\n\n');
          }
        });
        sse.ended = new Promise((done) => res.on('end', () => done()));
        resolve(sse);
      })
      .on('error', reject);
  });
}

test('GET /events streams state, progress and log events with heartbeats; ?compose ends after its end state', async (t) => {
  const api = await startTestApi(t, (dir) => ({ socket: { path: join(dir, 'api.socket'), mode: 0o600 } }));
  const { socket } = await listen(api.app, api.config);
  const gated = gatedBuild(() => api);
  const { id } = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'disk.raw' })).json();
  await waitForState(api, id, 'QUEUED');
  const all = await openStream(socket as string, '/api/forge/v1/events');
  const one = await openStream(socket as string, `/api/forge/v1/events?compose=${id}&heartbeat=1`);
  assert.equal(one.status, 200);
  await startTestWorker(api, gated.build);
  await waitForState(api, id, 'BUILDING');
  await new Promise((r) => setTimeout(r, 1200)); // a heartbeat
  gated.open();
  await one.ended; // the server ends it after COMPLETED
  const states = one.events.filter((e) => e.event === 'state').map((e) => e.data.state);
  assert.deepEqual(states, ['QUEUED', 'BUILDING', 'COMPLETED']);
  assert.ok(one.events.every((e) => e.data.uuid === id));
  assert.ok(one.events.some((e) => e.event === 'progress' && e.data.done === 1 && e.data.total === 3));
  assert.ok(one.events.some((e) => e.event === 'log' && e.data.line === `building ${id}`));
  assert.ok(one.comments.includes('heartbeat'), `comments: ${one.comments.join(', ')}`);

  // A compose that has ended: its state, then the end of the stream.
  const later = await openStream(socket as string, `/api/forge/v1/events?compose=${id}`);
  await later.ended;
  assert.deepEqual(
    later.events.map((e) => [e.event, e.data.state]),
    [['state', 'COMPLETED']],
  );

  const unknown = await openStream(socket as string, '/api/forge/v1/events?compose=nope');
  assert.equal(unknown.status, 404);

  // The stream of every compose stays open until the API stops, then ends cleanly.
  assert.ok(all.events.some((e) => e.event === 'state' && e.data.state === 'COMPLETED'));
  await api.close();
  await all.ended;
});

test('compose ids in upper case: view with progress, events, the artifact directory, priority and cancel', async (t) => {
  const api = await startTestApi(t, (dir) => ({ socket: { path: join(dir, 'api.socket'), mode: 0o600 } }));
  const { socket } = await listen(api.app, api.config);
  const { id } = (await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'disk.raw' })).json();
  const UP = id.toUpperCase();
  await waitForState(api, id, 'QUEUED');
  const stream = await openStream(socket as string, `/api/forge/v1/events?compose=${UP}`);
  assert.equal(stream.status, 200);
  // The build uploads under the id in upper case, as a client that kept it so would.
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const worker = await startTestWorker(
    api,
    async (ctx) => {
      await ctx.progress(1, 2, 'half way');
      await gate;
      const res = await uploadArtifact(api, UP, 'disk.raw', Buffer.from('bytes'));
      assert.equal(res.statusCode, 201, res.body);
      return {
        success: true,
        artifact: { filename: 'disk.raw', ...(res.json() as { size: number; sha256: string }) },
      };
    },
    { own: true },
  );
  await waitForState(api, id, 'BUILDING');
  let view = (await api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${UP}` })).json();
  for (let i = 0; i < 100 && view.progress === null; i++) {
    await new Promise((r) => setTimeout(r, 20));
    view = (await api.app.inject({ method: 'GET', url: `/api/forge/v1/composes/${UP}` })).json();
  }
  assert.equal(view.id, id);
  assert.equal(view.progress?.message, 'half way', JSON.stringify(view));
  open();
  await stream.ended;
  assert.deepEqual(
    stream.events.filter((e) => e.event === 'state').map((e) => e.data.state),
    ['QUEUED', 'BUILDING', 'COMPLETED'],
  );
  assert.ok(stream.events.every((e) => e.data.uuid === id));
  const [artifact] = api.store.artifacts.list(id);
  assert.equal(
    artifact?.path,
    join(api.config.artifactsDir, id, 'disk.raw'),
    'the stored id names the directory',
  );

  await worker.close(); // the second compose stays queued
  const second = (
    await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'x', priority: 1 })
  ).json();
  const SECOND = second.id.toUpperCase();
  const url = `/api/forge/v1/composes/${SECOND}`;
  await waitForState(api, second.id, 'QUEUED');
  const priority = await api.app.inject({ method: 'PUT', url: `${url}/priority`, payload: { priority: 42 } });
  assert.equal(priority.statusCode, 200, priority.body);
  assert.equal((await api.queue.getJob(`build-${second.id}`))?.payload?.priority, 42);
  const cancelled = await api.app.inject({ method: 'POST', url: `${url}/cancel` });
  assert.equal(cancelled.statusCode, 200, cancelled.body);
  assert.equal(cancelled.json().id, second.id);
  assert.equal(cancelled.json().state, 'CANCELLED');
});

test('GET /composes lists every compose in one answer, filtered by state; an unknown state is a 400', async (t) => {
  const api = await startTestApi(t);
  const ids: string[] = [];
  for (const priority of [100, 900]) {
    const { id } = (
      await submit(api, { manifest: MANIFEST, exports: ['image'], filename: 'x', priority })
    ).json();
    await waitForState(api, id, 'QUEUED');
    ids.push(id);
  }
  await api.app.inject({ method: 'POST', url: `/api/forge/v1/composes/${ids[0]}/cancel` });
  const list = async (query: string) =>
    (await api.app.inject({ method: 'GET', url: `/api/forge/v1/composes${query}` })).json().composes as {
      id: string;
      state: string;
      priority: number;
    }[];
  assert.deepEqual(
    (await list('')).map((c) => [c.id, c.state, c.priority]),
    [
      [ids[1], 'QUEUED', 900],
      [ids[0], 'CANCELLED', 100],
    ],
  );
  assert.deepEqual(
    (await list('?state=PENDING,QUEUED')).map((c) => c.id),
    [ids[1]],
  );
  assert.deepEqual(await list('?state=FAILED'), []);
  const bad = await api.app.inject({ method: 'GET', url: '/api/forge/v1/composes?state=QUEUED,DONE' });
  assert.equal(bad.statusCode, 400, bad.body);
  assert.match(bad.body, /unknown state DONE/);
  const docs = await api.app.inject({ method: 'GET', url: '/docs/json' });
  assert.ok(docs.json().paths['/api/forge/v1/composes'], 'the route is in the OpenAPI document');
});
