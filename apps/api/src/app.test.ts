import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestApi } from './api.fixture.ts';
import { listen } from './server.ts';

function get(
  target: { socketPath?: string; url?: string },
  path: string,
  headers: Record<string, string> = {},
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(path, target.url ?? 'http://localhost');
    const opts = target.socketPath
      ? { socketPath: target.socketPath, path, headers }
      : { hostname: url.hostname, port: url.port, path, headers };
    const req = request(opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /api/status answers as osbuild-composer does', async (t) => {
  const { app } = await startTestApi(t);
  const res = await app.inject({ method: 'GET', url: '/api/status' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8/);
  const body = res.json();
  assert.equal(body.api, '1');
  assert.equal(body.backend, 'osbuild-composer');
  assert.equal(body.db_supported, true);
  assert.deepEqual(body.msgs, []);
});

test('unknown routes and API versions get the Weldr 404 body; the Cloud and Forge APIs their own', async (t) => {
  const { app } = await startTestApi(t);
  for (const url of ['/api/v2/blueprints/list', '/api/v0/no/such/route', '/nothing']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.deepEqual(res.json(), {
      status: false,
      errors: [{ code: 404, id: 'HTTPError', msg: 'Not Found' }],
    });
  }
  const cloud = await app.inject({ method: 'GET', url: '/api/image-builder-composer/v2/nothing' });
  assert.equal(cloud.statusCode, 404);
  assert.equal(cloud.json().kind, 'Error');
  const forge = await app.inject({ method: 'GET', url: '/api/forge/v1/nothing' });
  assert.equal(forge.statusCode, 404);
  assert.equal(forge.json().code, 'NotFound');
});

test('TCP needs a bearer token; the unix socket does not', async (t) => {
  const { app, config } = await startTestApi(t, (dir) => ({
    tokens: ['s3cret-token'],
    socket: { path: join(dir, 'api.socket'), mode: 0o660 },
    tcp: { host: '127.0.0.1', port: 0 },
  }));
  const where = await listen(app, config);
  assert.ok(where.socket && where.url);
  assert.equal((await get({ url: where.url }, '/api/status')).status, 401);
  assert.equal((await get({ url: where.url }, '/api/status', { authorization: 'Bearer wrong' })).status, 401);
  const ok = await get({ url: where.url }, '/api/status', { authorization: 'Bearer s3cret-token' });
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).backend, 'osbuild-composer');
  const viaSocket = await get({ socketPath: where.socket }, '/api/status');
  assert.equal(viaSocket.status, 200);
  // The description of the API is public; what it describes is not.
  const docs = await get({ url: where.url }, '/docs/json');
  assert.equal(docs.status, 200);
  assert.ok(JSON.parse(docs.body).paths['/api/v0/blueprints/list']);
  assert.equal((await get({ url: where.url }, '/docsx')).status, 401);
});

test('trust comes from the listener: a reset TCP request, or one of unknown origin, needs the token', async (t) => {
  const { app, config, store } = await startTestApi(t, (dir) => ({
    tokens: ['s3cret-token'],
    socket: { path: join(dir, 'api.socket'), mode: 0o660 },
    tcp: { host: '127.0.0.1', port: 0 },
  }));
  const where = await listen(app, config);
  const { port } = new URL(where.url as string);
  // Written, then reset at once (SO_LINGER 0): the server's socket has no remote address after it.
  const resetPush = (name: string, token?: string) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ name, version: '0.0.1' });
      const auth = token ? `Authorization: Bearer ${token}\r\n` : '';
      const sock = connect({ host: '127.0.0.1', port: Number(port) }, () => {
        sock.write(
          `POST /api/v1/blueprints/new HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          () => sock.resetAndDestroy(),
        );
      });
      sock.on('error', () => {});
      sock.on('close', () => resolve());
    });
  for (let i = 0; i < 50; i++) await resetPush(`reset-${i}`);
  // The same trick with the token is carried out: the requests above reached the router too.
  for (let i = 0; i < 10; i++) await resetPush(`control-${i}`, 's3cret-token');
  for (let i = 0; i < 100 && store.blueprints.list().total === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const stored = store.blueprints.list({ limit: 100 }).items;
  assert.ok(stored.length > 0, 'no reset request reached the router');
  assert.deepEqual(
    stored.filter((name) => !name.startsWith('control-')),
    [],
  );
  // inject has no listener: it is refused without the token and served with it.
  assert.equal((await app.inject({ method: 'GET', url: '/api/status' })).statusCode, 401);
  const injected = await app.inject({
    method: 'GET',
    url: '/api/status',
    headers: { authorization: 'Bearer s3cret-token' },
  });
  assert.equal(injected.statusCode, 200);
});
