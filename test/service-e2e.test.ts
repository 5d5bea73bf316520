/**
 * The service end to end, over HTTP only, as a person uses it: `forge serve` (the real CLI, a child
 * process with its own state directory, private Redis and one worker), blueprints/server.toml pushed
 * as TOML over the unix socket (composer-cli's way), a qcow2 compose started and followed over TCP
 * with the token through the Forge API's event stream until it ends, Weldr's status FINISHED, the
 * image downloaded from /api/v0/compose/image and its sha256 checked against the compose's artifact
 * in the Forge API. The image itself is booted by test/compose-qcow2.test.ts. The same blueprint
 * composed again comes from the worker's store: no package stage (debootstrap, apt) runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, followEvents } from '@debian-forge/api/testing/http-client';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { REPO, sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping the service end-to-end test: ${skip}`);

/** Downloads `path` over TCP, hashing as it arrives; the body is not kept. */
function download(
  serve: Serve,
  path: string,
): Promise<{ status: number; length: number; declared: number; sha256: string; head: Buffer }> {
  const u = new URL(path, serve.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname,
        headers: { authorization: `Bearer ${serve.token}` },
      },
      (res) => {
        const hash = createHash('sha256');
        let length = 0;
        let head = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          if (head.length < 4) head = Buffer.concat([head, chunk]).subarray(0, 4);
          length += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            length,
            declared: Number(res.headers['content-length']),
            sha256: hash.digest('hex'),
            head,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the service end to end: blueprint, qcow2 compose, events, image', {
  skip,
  timeout: 30 * 60_000,
}, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  before(async () => {
    dir = tempDir('forge-service-e2e-');
    serve = await startServe(sharedStateDir(join(dir.path, 'state')), ['--workers', '1']);
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  /**
   * Starts a qcow2 compose of the blueprint `server` over TCP and follows its event stream (which
   * starts with the compose's current state and ends after its end state) until it ends.
   */
  const composeServer = async () => {
    const tcp = { url: serve.url, token: serve.token };
    const started = await call(
      tcp,
      'POST',
      '/api/v0/compose',
      JSON.stringify({
        blueprint_name: 'server',
        compose_type: 'qcow2',
        branch: 'master',
        size: 3 * 1024 ** 3,
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(started.status, 200, started.text());
    const id = (started.json() as { build_id: string }).build_id;
    assert.match(id, /^[0-9a-f-]{36}$/);
    const events = await followEvents(tcp, `/api/forge/v1/events?compose=${id}`);
    const states = events
      .filter((e) => e.event === 'state')
      .map((e) => (JSON.parse(e.data) as { state: string }).state);
    const logs = events
      .filter((e) => e.event === 'log')
      .map((e) => (JSON.parse(e.data) as { line: string }).line);
    assert.equal(
      states.at(-1),
      'COMPLETED',
      `states ${states.join(' → ')}; log:\n${logs.slice(-30).join('\n')}`,
    );
    return { tcp, id, events, states, logs };
  };

  it('builds blueprints/server.toml as qcow2 and serves the image with the sha256 the API recorded', async () => {
    const pushed = await call(
      { socket: serve.socket },
      'POST',
      '/api/v0/blueprints/new',
      readFileSync(join(REPO, 'blueprints/server.toml')),
      { 'content-type': 'text/x-toml' },
    );
    assert.equal(pushed.status, 200, pushed.text());
    assert.deepEqual(pushed.json(), { status: true });

    const { tcp, id, events, states } = await composeServer();
    assert.ok(states.includes('BUILDING'), states.join(' → '));
    assert.ok(
      events.some((e) => e.event === 'progress'),
      'the stream carried progress events (stage n of m)',
    );

    const status = await call(tcp, 'GET', `/api/v0/compose/status/${id}`);
    assert.equal(
      (status.json() as { uuids: { queue_status: string }[] }).uuids[0]?.queue_status,
      'FINISHED',
      status.text(),
    );

    const info = await call(tcp, 'GET', `/api/forge/v1/composes/${id}`);
    assert.equal(info.status, 200, info.text());
    const compose = info.json() as {
      state: string;
      artifacts: { filename: string; size: number; sha256: string }[];
    };
    assert.equal(compose.state, 'COMPLETED');
    const artifact = compose.artifacts[0];
    assert.ok(artifact, info.text());
    assert.equal(artifact.filename, 'disk.qcow2');

    const image = await download(serve, `/api/v0/compose/image/${id}`);
    assert.equal(image.status, 200);
    assert.equal(image.declared, artifact.size, 'Content-Length is the artifact size');
    assert.equal(image.length, artifact.size);
    assert.equal(image.sha256, artifact.sha256);
    assert.equal(image.head.toString('latin1'), 'QFI\xfb', 'a qcow2 file');
    assert.ok(artifact.size > 64 * 1024 * 1024, `a bootable server image is not ${artifact.size} bytes`);
  });

  it('composes the same blueprint again from the store: no package stage runs', async () => {
    // The worker's store has the bound forge compose gives one (none given, none recorded before).
    const info = JSON.parse(readFileSync(join(serve.stateDir, 'store/cache.info'), 'utf8'));
    assert.deepEqual(info, { version: 1, 'maximum-size': 20 * 1024 ** 3 });
    const begun = Date.now();
    const { logs } = await composeServer();
    const seconds = (Date.now() - begun) / 1000;
    // The worker logs each stage it starts as "pipeline P: stage n of m (TYPE)".
    const ran = logs.flatMap(
      (l) => /^pipeline (\S+): stage \d+ of \d+ \((\S+)\)$/.exec(l)?.slice(1, 3).join(' ') ?? [],
    );
    assert.ok(ran.length > 0, `the image is assembled again, so some stage ran; log:\n${logs.join('\n')}`);
    const packageStages = ran.filter((r) => / org\.osbuild\.(debootstrap|apt)$/.test(r));
    assert.deepEqual(packageStages, [], `stages run:\n${ran.join('\n')}`);
    assert.ok(
      !ran.some((r) => r.startsWith('os ')),
      `the os pipeline came from the store:\n${ran.join('\n')}`,
    );
    console.log(`# the second compose took ${seconds.toFixed(1)} s; stages run: ${ran.join(', ')}`);
  });

  it('stops on SIGTERM', async () => {
    assert.equal(await serve.stop('SIGTERM'), 0, serve.output().slice(-4000));
  });
});
