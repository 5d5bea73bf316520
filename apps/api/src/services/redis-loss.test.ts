/**
 * The API while its Redis is away (a real redis-server killed and started again): every entry point
 * that needs the queue refuses in its family's envelope and stores nothing, what is stored stays
 * readable, `/api/status` and the Forge API's health say so, a compose whose plan ends while Redis
 * is away ends FAILED with the reason, and when Redis is back the lifecycle reconciles by itself
 * (a job the killed Redis lost ends FAILED, not QUEUED for ever) and new composes build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import { CLOUD_PREFIX } from '../cloud/prefix.ts';
import {
  gatedPlanner,
  startTestWorker,
  TINY_MANIFEST,
  tinyPlanner,
  uploadingBuild,
  waitForState,
} from './compose.fixture.ts';

const blueprint = { name: 'base', version: '0.0.1', packages: [], modules: [], groups: [] };
const manifestBody = { manifest: TINY_MANIFEST, exports: ['image'], filename: 'disk.qcow2' };
const cloudBody = {
  distribution: 'debian-12',
  image_request: { architecture: 'x86_64', image_type: 'guest-image', repositories: [] },
};

const post = (a: TestApi, url: string, payload: object) => a.app.inject({ method: 'POST', url, payload });
const get = (a: TestApi, url: string) => a.app.inject({ method: 'GET', url });

async function killRedis(a: TestApi): Promise<void> {
  process.kill(a.redis.pid, 'SIGKILL');
  for (let i = 0; i < 200 && a.queue.redisState().reachable; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.queue.redisState().reachable, false, 'the queue noticed');
}

async function untilReachable(a: TestApi): Promise<void> {
  for (let i = 0; i < 500 && !a.queue.redisState().reachable; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.queue.redisState().reachable, true, 'Redis is back for the queue');
}

test('Redis away: compose starts refused in each envelope with nothing stored; stored composes readable; status and health say so; all works when it is back', async (t) => {
  const a = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  a.store.blueprints.push(blueprint, { versionGiven: '0.0.1' });
  const before = await post(a, '/api/forge/v1/manifests', manifestBody);
  assert.equal(before.statusCode, 201, before.body);
  const queued = (before.json() as { id: string }).id;
  await killRedis(a);

  const forge = await post(a, '/api/forge/v1/manifests', manifestBody);
  assert.equal(forge.statusCode, 503, forge.body);
  assert.equal(forge.json().code, 'FORGE_ERR_REDIS_UNAVAILABLE');
  assert.match(forge.json().message, /Redis is unreachable/);
  const cloud = await post(a, `${CLOUD_PREFIX}/compose`, cloudBody);
  assert.equal(cloud.statusCode, 503, cloud.body);
  assert.deepEqual([cloud.json().kind, cloud.json().id], ['Error', 'FORGE_ERR_REDIS_UNAVAILABLE']);
  const weldr = await post(a, '/api/v1/compose', {
    blueprint_name: 'base',
    compose_type: 'qcow2',
    branch: 'master',
  });
  assert.equal(weldr.statusCode, 500, weldr.body); // weldr-client reads only 400, 404 and 500 as errors
  assert.equal(weldr.json().errors[0].id, 'ComposePushErrored');
  // Bad requests are still 400: the check of the request comes first.
  assert.equal(
    (await post(a, `${CLOUD_PREFIX}/compose`, { ...cloudBody, distribution: 'nope' })).statusCode,
    400,
  );
  for (const url of ['/api/forge/v1/queue', '/api/forge/v1/workers']) {
    const res = await get(a, url);
    assert.equal(res.statusCode, 503, `${url}: ${res.body}`);
  }
  // The compose queued before: cancel and priority need Redis, and change nothing meanwhile.
  const cancel = await post(a, `/api/forge/v1/composes/${queued}/cancel`, {});
  assert.equal(cancel.statusCode, 503, cancel.body);
  const weldrCancel = await a.app.inject({ method: 'DELETE', url: `/api/v1/compose/cancel/${queued}` });
  assert.equal(weldrCancel.statusCode, 500, weldrCancel.body);
  const priority = await post(a, `/api/forge/v1/composes/${queued}/priority`, { priority: 900 });
  assert.equal(priority.statusCode, 503, priority.body);
  assert.equal(a.store.composes.get(queued)?.state, 'QUEUED');
  assert.notEqual(a.store.composes.get(queued)?.priority, 900);
  // Nothing refused was stored; what is stored is readable.
  assert.equal(a.store.composes.list().total, 1);
  assert.equal((await get(a, `/api/forge/v1/composes/${queued}`)).statusCode, 200);
  assert.equal((await get(a, '/api/v1/compose/queue')).statusCode, 200);
  const status = (await get(a, '/api/status')).json() as { backend: string; msgs: string[] };
  assert.equal(status.backend, 'osbuild-composer');
  assert.equal(status.msgs.length, 1);
  assert.match(status.msgs[0] as string, /^Redis is unreachable since \S+ \(.+\): composes cannot be queued/);
  const health = await get(a, '/api/forge/v1/health');
  assert.equal(health.statusCode, 503);
  assert.equal(health.json().status, 'unavailable');

  await a.redis.restart(); // empty: the test server keeps nothing, so the queued job is gone
  await untilReachable(a);
  // The lifecycle reconciled on Redis' return: a compose whose job is lost does not wait for ever.
  await waitForState(a, queued, 'FAILED');
  const lost = a.store.composes.get(queued)?.error as { code: string } | undefined;
  assert.equal(lost?.code, 'FORGE_ERR_JOB_LOST');
  assert.deepEqual((await get(a, '/api/status')).json().msgs, []);
  assert.equal((await get(a, '/api/forge/v1/health')).statusCode, 200);
  await startTestWorker(
    a,
    uploadingBuild(() => a),
  );
  const after = await post(a, '/api/forge/v1/manifests', manifestBody);
  assert.equal(after.statusCode, 201, after.body);
  await waitForState(a, (after.json() as { id: string }).id, 'COMPLETED');
});

test('a compose whose manifest is made while Redis goes away: FAILED with the reason (Cloud), refused and removed (Weldr)', async (t) => {
  const gate = gatedPlanner();
  const a = await startTestApi(t, {}, { composes: { planner: gate.planner } });
  a.store.blueprints.push(blueprint, { versionGiven: '0.0.1' });
  gate.close();
  const cloud = await post(a, `${CLOUD_PREFIX}/compose`, cloudBody);
  assert.equal(cloud.statusCode, 201, cloud.body);
  const id = (cloud.json() as { id: string }).id;
  const weldr = post(a, '/api/v1/compose', {
    blueprint_name: 'base',
    compose_type: 'qcow2',
    branch: 'master',
  });
  await killRedis(a);
  gate.open();
  await waitForState(a, id, 'FAILED');
  const error = a.store.composes.get(id)?.error as { code: string; message: string } | undefined;
  assert.equal(error?.code, 'FORGE_ERR_REDIS_UNAVAILABLE');
  assert.match(error?.message ?? '', /^the build job could not be queued: Redis is unreachable/);
  const refused = await weldr;
  assert.equal(refused.statusCode, 500, refused.body);
  assert.equal(refused.json().errors[0].id, 'ComposePushErrored');
  assert.equal(a.store.composes.list().total, 1, 'the Weldr compose was removed');
  await a.redis.restart();
});
