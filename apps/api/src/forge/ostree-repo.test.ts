import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { commitFiles, hasOstree } from '@debian-forge/engine/testing';
import { run } from '@debian-forge/host';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import { buildApp } from '../app.ts';
import { listen } from '../server.ts';
import {
  type Build,
  planOf,
  startTestWorker,
  tinyPlanner,
  uploadArtifact,
  waitForState,
} from '../services/compose.fixture.ts';

const skip = hasOstree ? false : 'ostree is not installed';
const TOKEN = 'repo-test-token';
const REF = 'debian/12/x86_64/example';
const REPO = '/api/forge/v1/ostree/repo';

type RefsAnswer = {
  repo: string;
  refs: {
    ref: string;
    head: string | null;
    published: boolean;
    commits: { commit: string; compose: string; published: boolean; publish_error: string | null }[];
  }[];
};

/** The same API (store, queue, repository) served on a TCP listener with a token, as forge serve does. */
async function overTcp(t: TestContext, api: TestApi): Promise<string> {
  const config = { ...api.config, socket: undefined, tcp: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN] };
  const app = await buildApp({ ...api.deps, config });
  t.after(() => app.close());
  return (await listen(app, config)).url as string;
}

/** One GET with `path` sent as written (no `..` resolved, no encoding undone). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request({ hostname, port, path, method: 'GET', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * A worker whose builds commit files to one build repository (each commit the child of the one
 * before, as a new version with its parent is) and upload it as the commit artifact does: a tar of
 * the tree holding `repo/`. A compose named in `garbage` uploads bytes that are no tar.
 */
function committingBuild(api: () => TestApi, garbage: Set<string>): Build {
  return async (ctx) => {
    const { composeId } = ctx.payload;
    const { filename } = (await planOf(api(), composeId, ctx.jobId)).artifact;
    const tree = join(api().dir, 'build');
    const commit = commitFiles(join(tree, 'repo'), join(api().dir, 'content'), REF, {
      'usr/share/version': `${composeId}\n`,
    });
    const tar = join(api().dir, 'commit.tar');
    await run(['tar', '--create', `--file=${tar}`, `--directory=${tree}`, '--', '.']);
    const bytes = garbage.has(composeId) ? Buffer.from('not a tar\n') : readFileSync(tar);
    const res = await uploadArtifact(api(), composeId, filename, bytes);
    if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`);
    const { size, sha256 } = res.json() as { size: number; sha256: string };
    return { success: true, artifact: { filename, size, sha256 }, ostreeCommit: commit };
  };
}

async function atomicApi(t: TestContext, garbage = new Set<string>()) {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  await startTestWorker(
    api,
    committingBuild(() => api, garbage),
  );
  api.store.blueprints.push(
    { name: 'base', version: '0.0.1', packages: [], modules: [], groups: [] },
    { versionGiven: '0.0.1' },
  );
  const compose = async (ostree: Record<string, string>, bad = false) => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/api/v1/compose',
      payload: { blueprint_name: 'base', compose_type: 'debian-atomic-commit', branch: 'master', ostree },
    });
    assert.equal(res.statusCode, 200, res.body);
    const id = (res.json() as { build_id: string }).build_id;
    if (bad) garbage.add(id);
    await waitForState(api, id, 'COMPLETED');
    await api.deps.ostree.idle();
    return { id, commit: api.store.composes.get(id)?.ostree.commit as string };
  };
  const refs = async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/forge/v1/ostree/refs' });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as RefsAnswer;
  };
  const remove = async (id: string) => {
    const res = await api.app.inject({ method: 'DELETE', url: `/api/v1/compose/delete/${id}` });
    assert.equal(res.statusCode, 200, res.body);
  };
  return { api, compose, refs, remove };
}

/** A client repository with the service as remote `forge` at `url` (credentials in it or not). */
async function client(dir: string, url: string) {
  const repo = join(dir, `client-${Math.random().toString(36).slice(2)}`);
  await run(['ostree', 'init', `--repo=${repo}`, '--mode=archive']);
  await run(['ostree', 'remote', 'add', `--repo=${repo}`, '--no-gpg-verify', 'forge', url]);
  return {
    pull: () => run(['ostree', 'pull', `--repo=${repo}`, 'forge', REF], { okCodes: 'any' }),
    revParse: async () =>
      (await run(['ostree', 'rev-parse', `--repo=${repo}`, `forge:${REF}`])).stdout.trim(),
    log: async () => (await run(['ostree', 'log', `--repo=${repo}`, `forge:${REF}`])).stdout,
  };
}

const withToken = (url: string, token: string) => url.replace('http://', `http://forge:${token}@`);

test('a COMPLETED commit is published, pulled by a real ostree over HTTP with the token in the URL, and withdrawn when its compose is deleted', {
  skip,
}, async (t) => {
  const { api, compose, refs, remove } = await atomicApi(t);
  const url = await overTcp(t, api);
  const remote = `${withToken(url, TOKEN)}${REPO}`;
  assert.equal((await refs()).repo, REPO);

  const v1 = await compose({ ref: REF });
  const first = (await refs()).refs[0];
  assert.equal(first?.head, v1.commit);
  assert.equal(first?.published, true);
  assert.deepEqual(
    first?.commits.map((c) => [c.commit, c.published, c.publish_error]),
    [[v1.commit, true, null]],
  );
  const machine = await client(api.dir, remote);
  const pulled = await machine.pull();
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.equal(await machine.revParse(), v1.commit);

  const v2 = await compose({ ref: REF, parent: v1.commit });
  assert.equal((await refs()).refs[0]?.head, v2.commit, 'the ref follows the newest finished commit');
  assert.equal((await machine.pull()).exitCode, 0);
  assert.equal(await machine.revParse(), v2.commit);
  const log = await machine.log();
  assert.match(log, new RegExp(`commit ${v2.commit}[\\s\\S]*Parent: +${v1.commit}`));

  // Deleting the head moves the ref back to the newest commit left; the commit's objects go.
  await remove(v2.id);
  const after = (await refs()).refs[0];
  assert.equal(after?.head, v1.commit);
  assert.deepEqual(
    after?.commits.map((c) => c.commit),
    [v1.commit],
  );
  const gone = await rawGet(url, `${REPO}/objects/${v2.commit.slice(0, 2)}/${v2.commit.slice(2)}.commit`, {
    authorization: `Bearer ${TOKEN}`,
  });
  assert.equal(gone.status, 404);
  const fresh = await client(api.dir, remote);
  assert.equal((await fresh.pull()).exitCode, 0);
  assert.equal(await fresh.revParse(), v1.commit);

  // The last commit of a ref takes the ref with it.
  await remove(v1.id);
  assert.deepEqual((await refs()).refs, []);
  const none = await fresh.pull();
  assert.notEqual(none.exitCode, 0, 'nothing left to pull');
  assert.match(none.stderr, /No such branch|not found|404/i);
  const heads = await rawGet(url, `${REPO}/refs/heads/${REF}`, { authorization: `Bearer ${TOKEN}` });
  assert.equal(heads.status, 404);
});

test('a commit that cannot be published leaves its compose COMPLETED and says why in the ref view', {
  skip,
}, async (t) => {
  const { api, compose, refs } = await atomicApi(t);
  const good = await compose({ ref: REF });
  // Uploaded bytes that are no tar, with a commit reported: the publication fails.
  const bad = await compose({ ref: REF, parent: good.commit }, true);
  assert.equal(api.store.composes.get(bad.id)?.state, 'COMPLETED');
  const [ref] = (await refs()).refs;
  assert.equal(ref?.head, good.commit, 'the ref stays at the newest commit the repository holds');
  assert.equal(ref?.published, false, 'the newest commit is not what the ref points at');
  const [newest, older] = ref?.commits ?? [];
  assert.equal(newest?.commit, bad.commit);
  assert.equal(newest?.published, false);
  assert.match(newest?.publish_error ?? '', /tar/);
  assert.equal(older?.published, true);
});

test('at start-up the repository catches up with the store: missing commits pulled, orphans dropped', {
  skip,
}, async (t) => {
  const { api, compose } = await atomicApi(t);
  const v1 = await compose({ ref: REF });
  const v2 = await compose({ ref: REF, parent: v1.commit });
  const repo = api.deps.ostree.dir;
  // A repository from before (or lost): gone, with a commit of nobody's in its place.
  rmSync(join(api.dir, 'ostree'), { recursive: true, force: true });
  const stray = commitFiles(repo, join(api.dir, 'stray'), 'stray/ref', { stray: 'x' });
  await api.close();
  const again = await startTestApi(
    t,
    {},
    {
      composes: { planner: tinyPlanner },
      reuse: { dir: api.dir, redis: api.redis, queueName: api.queue.queueName },
    },
  );
  await again.deps.ostree.idle();
  assert.equal(again.deps.ostree.head(REF), v2.commit);
  assert.equal(again.deps.ostree.head('stray/ref'), null);
  assert.equal(again.deps.ostree.commitState(v1.commit).published, true);
  assert.equal(again.deps.ostree.commitState(stray).published, false);
  const listed = (await run(['ostree', 'refs', `--repo=${repo}`])).stdout.trim();
  assert.equal(listed, REF);
});

test('the repository over TCP: bearer or Basic (any user, the token as password) on its paths only; ostree pull without or with a wrong token fails', {
  skip,
}, async (t) => {
  const { api, compose } = await atomicApi(t);
  await compose({ ref: REF });
  const url = await overTcp(t, api);
  const get = (path: string, headers: Record<string, string> = {}) => rawGet(url, path, headers);
  const config = `${REPO}/config`;
  assert.equal((await get(config)).status, 401);
  assert.equal((await get(config, { authorization: `Bearer wrong` })).status, 401);
  assert.equal((await get(config, { authorization: basic('forge', 'wrong') })).status, 401);
  assert.equal(
    (await get(config, { authorization: basic(TOKEN, '') })).status,
    401,
    'the token is the password',
  );
  assert.equal((await get(config, { authorization: 'Basic !!!' })).status, 401);
  const viaBasic = await get(config, { authorization: basic('anyone', TOKEN) });
  assert.equal(viaBasic.status, 200);
  assert.match(viaBasic.body.toString(), /mode=archive/);
  assert.equal(viaBasic.headers['cache-control'], 'no-cache');
  assert.equal((await get(config, { authorization: `Bearer ${TOKEN}` })).status, 200);
  // Basic opens the repository only, not the API.
  assert.equal(
    (await get('/api/forge/v1/ostree/refs', { authorization: basic('forge', TOKEN) })).status,
    401,
  );
  assert.equal((await get('/api/forge/v1/ostree/refs', { authorization: `Bearer ${TOKEN}` })).status, 200);

  for (const [remote, why] of [
    [`${url}${REPO}`, 'no token'],
    [`${withToken(url, 'wrong')}${REPO}`, 'a wrong token'],
  ] as const) {
    const machine = await client(api.dir, remote);
    const pulled = await machine.pull();
    assert.notEqual(pulled.exitCode, 0, `pull with ${why}`);
    assert.match(pulled.stderr, /401/, why);
  }
});

test('the repository route serves nothing outside the repository: .., encoded .., absolute paths, symbolic links, its own tmp', {
  skip,
}, async (t) => {
  const { api, compose } = await atomicApi(t);
  const { commit } = await compose({ ref: REF });
  const url = await overTcp(t, api);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const repo = api.deps.ostree.dir;
  const secret = join(api.dir, 'secret.txt');
  writeFileSync(secret, 'not for machines\n');
  // Links a writer of the repository could leave: a file and a directory leading out of it.
  symlinkSync(secret, join(repo, 'refs', 'heads', 'leak'));
  mkdirSync(join(repo, 'objects', 'zz'), { recursive: true });
  symlinkSync(api.dir, join(repo, 'objects', 'zy'));
  writeFileSync(join(repo, 'tmp', 'scratch'), 'half written\n');
  const attacks = [
    `${REPO}/../../../../secret.txt`,
    `${REPO}/objects/../../../secret.txt`,
    `${REPO}/%2e%2e/%2e%2e/secret.txt`,
    `${REPO}/objects/%2e%2e/%2e%2e/%2e%2e/secret.txt`,
    `${REPO}/objects%2f..%2f..%2f..%2fsecret.txt`,
    `${REPO}/refs/heads/%2e%2e%2f%2e%2e%2f%2e%2e%2fconfig`,
    `${REPO}/%2f${secret.slice(1)}`,
    `${REPO}//${secret.slice(1)}`,
    `${REPO}/refs/heads/leak`,
    `${REPO}/objects/zy/secret.txt`,
    `${REPO}/tmp/scratch`,
    `${REPO}/objects/zz`,
    `${REPO}/objects/`,
    `${REPO}/`,
    `${REPO}/state`,
    `${REPO}/config%00`,
  ];
  for (const path of attacks) {
    const res = await rawGet(url, path, auth);
    assert.ok([400, 404].includes(res.status), `${path}: ${res.status}`);
    assert.ok(!res.body.toString().includes('not for machines'), path);
    assert.ok(!res.body.toString().includes('half written'), path);
  }
  // What a client fetches is served: the ref and the commit object.
  const head = await rawGet(url, `${REPO}/refs/heads/${REF}`, auth);
  assert.equal(head.status, 200);
  assert.equal(head.body.toString().trim(), commit);
  const object = await rawGet(url, `${REPO}/objects/${commit.slice(0, 2)}/${commit.slice(2)}.commit`, auth);
  assert.equal(object.status, 200);
  assert.match(String(object.headers['cache-control']), /immutable/);
});
