import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import {
  type Build,
  startTestWorker,
  tinyPlanner,
  uploadingBuild,
  waitForState,
} from '../services/compose.fixture.ts';

/** The commit the test's worker reports for a compose: derived from its id, so each is its own. */
const commitOf = (uuid: string) => createHash('sha256').update(uuid).digest('hex');

/** Uploads the artifact and reports a commit; a compose named in `failing` fails instead. */
function committingBuild(api: () => TestApi, failing: Set<string>): Build {
  const upload = uploadingBuild(api);
  return async (ctx) => {
    if (failing.has(ctx.payload.composeId)) throw new Error('the build failed');
    return { ...(await upload(ctx)), ostreeCommit: commitOf(ctx.payload.composeId) };
  };
}

test('GET /ostree/refs: each ref with the commits of its COMPLETED composes, newest first, with parents', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  const failing = new Set<string>();
  await startTestWorker(
    api,
    committingBuild(() => api, failing),
  );
  for (const name of ['base', 'kiosk']) {
    api.store.blueprints.push(
      { name, version: '0.0.1', packages: [], modules: [], groups: [] },
      { versionGiven: '0.0.1' },
    );
  }
  const compose = async (
    blueprint: string,
    type: string,
    ostree: Record<string, string>,
    end: 'COMPLETED' | 'FAILED' = 'COMPLETED',
  ) => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/api/v1/compose',
      payload: { blueprint_name: blueprint, compose_type: type, branch: 'master', ostree },
    });
    assert.equal(res.statusCode, 200, res.body);
    const id = (res.json() as { build_id: string }).build_id;
    if (end === 'FAILED') failing.add(id);
    await waitForState(api, id, end);
    return id;
  };
  const refs = async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/forge/v1/ostree/refs' });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as {
      refs: { ref: string; commits: { commit: string; parent: string | null; compose: string }[] }[];
    };
  };
  assert.deepEqual(await refs(), { repo: '/api/forge/v1/ostree/repo', refs: [] });

  const url = 'https://updates.example.org/repo';
  const v1 = await compose('base', 'debian-atomic-commit', { ref: 'example/stable', url });
  const other = await compose('kiosk', 'debian-atomic-commit', { ref: 'example/kiosk' });
  const v2 = await compose('kiosk', 'debian-atomic-commit', { ref: 'example/stable', parent: commitOf(v1) });
  // Neither a failed compose nor a type that makes no commit is listed.
  await compose('base', 'debian-atomic-commit', { ref: 'example/stable', parent: commitOf(v2) }, 'FAILED');
  await compose('base', 'tar', {});

  const { refs: listed } = await refs();
  assert.deepEqual(
    listed.map((r) => [r.ref, r.commits.map((c) => [c.compose, c.commit, c.parent])]),
    [
      [
        'example/stable',
        [
          [v2, commitOf(v2), commitOf(v1)],
          [v1, commitOf(v1), null],
        ],
      ],
      ['example/kiosk', [[other, commitOf(other), null]]],
    ],
  );
  const [newest, first] = (listed[0] as { commits: Record<string, unknown>[] }).commits;
  assert.deepEqual(newest?.blueprint, { name: 'kiosk', version: '0.0.1' });
  assert.equal(newest?.image_type, 'debian-atomic-commit');
  assert.equal(first?.url, url);
  assert.ok((newest?.finished_at as string) > (first?.finished_at as string), 'finished_at orders the chain');

  // A deleted compose takes its commit out of the list.
  const del = await api.app.inject({ method: 'DELETE', url: `/api/v1/compose/delete/${other}` });
  assert.equal(del.statusCode, 200, del.body);
  assert.deepEqual(
    (await refs()).refs.map((r) => r.ref),
    ['example/stable'],
  );
});
