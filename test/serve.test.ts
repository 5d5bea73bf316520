/**
 * `forge serve` as a user runs it (the real CLI, a child process): where it listens, the sockets'
 * and the token file's modes, tokens on TCP and none on the sockets, the Cloud API socket serving
 * that API only, Swagger UI, raw manifests checked against --libdir, a second serve on
 * the same state directory refused, `forge worker` joining it and leaving, a clean stop on SIGTERM
 * (its redis-server gone), and a restart after SIGKILL that replaces the redis-server the killed
 * one left behind.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { forgeChild, type Serve, serveStatePaths, startServe } from '@debian-forge/cli/testing/serve';
import { pidAlive } from '@debian-forge/host';
import { forge, tempDir, testLibdir } from './engine.fixture.ts';
import { probeManifest } from './worker.fixture.ts';

const redisMissing = !existsSync('/usr/bin/redis-server');
const skip = redisMissing ? 'needs redis-server (scripts/debian-packages)' : undefined;
if (skip) console.log(`# skipping forge serve tests: ${skip}`);

describe('forge serve', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  before(async () => {
    dir = tempDir('forge-serve-');
    serve = await startServe(join(dir.path, 'state'), [
      '--workers',
      '0',
      '--cloud-socket',
      join(dir.path, 'cloudapi', 'api.socket'),
    ]);
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  it('prints where it listens; socket 0660, token file 0600', () => {
    const state = join(dir.path, 'state');
    assert.equal(serve.socket, join(state, 'api.socket'));
    assert.match(serve.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(serve.output(), /no workers \(API only\)/);
    assert.equal(statSync(serve.socket).mode & 0o777, 0o660);
    assert.ok(statSync(serve.socket).isSocket());
    const token = serveStatePaths(state).token;
    assert.equal(statSync(token).mode & 0o777, 0o600);
    assert.match(serve.token, /^[A-Za-z0-9_-]{40,}$/);
  });

  it('needs the token on TCP, not on the unix socket', async () => {
    const viaSocket = await call({ socket: serve.socket }, 'GET', '/api/status');
    assert.equal(viaSocket.status, 200);
    assert.equal((viaSocket.json() as { backend: string }).backend, 'osbuild-composer');
    assert.equal((await call({ url: serve.url }, 'GET', '/api/status')).status, 401);
    assert.equal((await call({ url: serve.url, token: 'wrong' }, 'GET', '/api/status')).status, 401);
    assert.equal((await call({ url: serve.url, token: serve.token }, 'GET', '/api/status')).status, 200);
  });

  it('--cloud-socket: a second socket, 0660, for the Cloud API only, without a token', async () => {
    const cloud = join(dir.path, 'cloudapi', 'api.socket');
    assert.match(serve.output(), new RegExp(`Cloud API on ${cloud} \\(unix socket, no token needed`));
    assert.ok(statSync(cloud).isSocket());
    assert.equal(statSync(cloud).mode & 0o777, 0o660);
    const list = await call({ socket: cloud }, 'GET', '/api/image-builder-composer/v2/composes/');
    assert.equal(list.status, 200, list.text());
    assert.deepEqual(list.json(), []);
    const weldr = await call({ socket: cloud }, 'GET', '/api/status');
    assert.equal(weldr.status, 404);
    assert.equal((weldr.json() as { kind: string }).kind, 'Error');
  });

  it('serves Swagger UI at /docs and the OpenAPI document', async () => {
    const docs = await call({ socket: serve.socket }, 'GET', '/docs');
    assert.equal(docs.status, 200);
    assert.match(String(docs.headers['content-type']), /^text\/html/);
    assert.match(docs.text(), /swagger/i);
    const json = await call({ url: serve.url, token: serve.token }, 'GET', '/docs/json');
    assert.equal(json.status, 200);
    assert.match((json.json() as { openapi: string }).openapi, /^3\./);
  });

  it("--libdir: raw manifests are checked against the workers' stages, not forge's own", async () => {
    const libdir = testLibdir(dir.path);
    const body = JSON.stringify({ manifest: probeManifest({}), exports: ['tree'], filename: 'none' });
    const submit = (s: Serve) =>
      call({ socket: s.socket }, 'POST', '/api/forge/v1/manifests', body, {
        'content-type': 'application/json',
      });
    const refused = await submit(serve);
    assert.equal(refused.status, 400);
    assert.match(refused.text(), /org\.forge\.test\.probe/);
    const other = await startServe(join(dir.path, 'libdir-state'), ['--workers', '0', '--libdir', libdir]);
    try {
      const accepted = await submit(other);
      assert.equal(accepted.status, 201, accepted.text());
    } finally {
      await other.stop();
    }
  });

  it('refuses a second serve on the same state directory', () => {
    const r = forge(['serve', '--state-dir', serve.stateDir, '--listen', 'none']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /another forge serve is running on .* \(it holds .*serve\.lock\)/);
  });

  it('forge worker joins over the API socket and the private Redis, and leaves on SIGTERM', async () => {
    const redisUrl = /private redis-server on (unix:\/\/\S+)/.exec(serve.output())?.[1];
    assert.ok(redisUrl, serve.output());
    const worker = forgeChild([
      'worker',
      '--redis',
      redisUrl,
      '--api-socket',
      serve.socket,
      '--state-dir',
      join(dir.path, 'worker'),
      '--name',
      'test-worker',
    ]);
    let out = '';
    worker.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    worker.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = once(worker, 'exit');
    const names = async () => {
      const res = await call({ socket: serve.socket }, 'GET', '/api/forge/v1/workers');
      return (res.json() as { workers: { name: string }[] }).workers.map((w) => w.name);
    };
    try {
      for (let i = 0; i < 200 && !(await names()).includes('test-worker'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(await names(), ['test-worker'], out);
      assert.match(out, /forge worker: test-worker takes jobs from Redis/);
    } finally {
      worker.kill('SIGTERM');
    }
    const [code] = await exited;
    assert.equal(code, 0, out);
    assert.match(out, /forge worker: stopped/);
    assert.deepEqual(await names(), [], 'the worker left the list');
  });

  it('after SIGKILL, the next start replaces the left redis-server; SIGTERM stops cleanly', async () => {
    const pids = serveStatePaths(serve.stateDir).redisPid;
    const leftRedis = Number(readFileSync(pids, 'utf8'));
    await serve.stop('SIGKILL');
    assert.ok(pidAlive(leftRedis), 'the killed serve left its redis-server running');
    serve = await startServe(serve.stateDir, ['--workers', '0']);
    assert.ok(!pidAlive(leftRedis), 'the left redis-server was stopped');
    const redis = Number(readFileSync(pids, 'utf8'));
    assert.notEqual(redis, leftRedis);
    assert.equal(serve.token, readFileSync(serveStatePaths(serve.stateDir).token, 'utf8').trim());
    assert.equal((await call({ socket: serve.socket }, 'GET', '/api/status')).status, 200);

    assert.equal(await serve.stop('SIGTERM'), 0, serve.output());
    assert.match(serve.output(), /SIGTERM: stopping\n.*stopped/s);
    assert.ok(!pidAlive(redis), 'redis-server stopped with the service');
    assert.ok(!existsSync(serve.socket), 'the socket is gone');
  });
});
