/**
 * `forge serve` when its private Redis goes away (issue 10, item 6), against the real CLI: a
 * redis-server that hangs (SIGSTOP) or dies (SIGKILL) makes every request that needs Redis answer
 * 503 (Weldr: 500 ComposePushErrored) within a bound instead of hanging, `/api/status` and the
 * Forge API's health say so, the service starts Redis again by itself (with back-off, one log line
 * per restart, no stack traces) and composes are accepted and built again, a job queued before the
 * kill survives it (append-only file), and SIGTERM stops the service within seconds while Redis
 * hangs or is gone. The figures measured are printed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Answer, call } from '@debian-forge/api/testing/http-client';
import { type Serve, serveStatePaths, startServe } from '@debian-forge/cli/testing/serve';
import { pidAlive } from '@debian-forge/host';
import { sandboxUnavailable, tempDir } from './engine.fixture.ts';
import { helloManifest } from './worker.fixture.ts';

const skip = existsSync('/usr/bin/redis-server') ? undefined : 'needs redis-server (scripts/debian-packages)';
if (skip) console.log(`# skipping the Redis fault tests: ${skip}`);
const noBuild = sandboxUnavailable();
if (!skip && noBuild) console.log(`# the Redis fault tests build nothing: ${noBuild}`);

/** A request that needs Redis answers within this, whatever Redis does (the queue's bound is 3 s). */
const ANSWER_BOUND_MS = 4_000;
/** SIGTERM ends the service within this while Redis hangs or is gone. */
const STOP_BOUND_MS = 5_000;

const MANIFEST = JSON.stringify({
  manifest: helloManifest('after Redis came back'),
  exports: ['tree'],
  filename: 'hello',
});

function redisPid(serve: Serve): number {
  return Number(readFileSync(serveStatePaths(serve.stateDir).redisPid, 'utf8').trim());
}

async function timedCall(
  serve: Serve,
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
) {
  const started = performance.now();
  const answer = await call({ socket: serve.socket }, method, path, body, headers);
  return { answer, ms: performance.now() - started };
}

const json = { 'content-type': 'application/json' };

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function healthy(serve: Serve): Promise<boolean> {
  return (await call({ socket: serve.socket }, 'GET', '/api/forge/v1/health')).status === 200;
}

/** Lines of the log that are (parts of) stack traces. */
function stackLines(output: string): string[] {
  return output.split('\n').filter((l) => /"stack":|^\s+at /.test(l));
}

/** Weldr's `?test=2` compose of the blueprint `bp`: it needs no queue. */
function testCompose(serve: Serve): Promise<Answer> {
  const body = '{"blueprint_name":"bp","compose_type":"tar","branch":"master"}';
  return call({ socket: serve.socket }, 'POST', '/api/v1/compose?test=2', body, json);
}

/** The state a compose ends in (polling the Forge API), with its error. */
function composeEnd(serve: Serve, uuid: string): Promise<{ state: string; error: unknown }> {
  return until(
    `compose ${uuid} ends`,
    async () => {
      const c = (await call({ socket: serve.socket }, 'GET', `/api/forge/v1/composes/${uuid}`)).json() as {
        state: string;
        error: unknown;
      };
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(c.state) ? c : undefined;
    },
    5 * 60_000,
  );
}

function statusMsgs(a: Answer): string[] {
  return (a.json() as { msgs: string[] }).msgs;
}

describe('forge serve when its Redis goes away', { skip, timeout: 10 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  before(async () => {
    dir = tempDir('forge-faults-redis-');
    serve = await startServe(join(dir.path, 'state'), ['--workers', '1', '--log-level', 'info']);
    const bp = await call(
      { socket: serve.socket },
      'POST',
      '/api/v0/blueprints/new',
      '{"name":"bp","version":"0.0.1"}',
      json,
    );
    assert.equal(bp.status, 200, bp.text());
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  it('Redis hanging (SIGSTOP): requests that need it answer 503 within the bound, status and health say so, all works on SIGCONT', async () => {
    const pid = redisPid(serve);
    process.kill(pid, 'SIGSTOP');
    try {
      const first = await timedCall(serve, 'GET', '/api/forge/v1/queue');
      assert.equal(first.answer.status, 503, first.answer.text());
      assert.equal((first.answer.json() as { code: string }).code, 'FORGE_ERR_REDIS_UNAVAILABLE');
      assert.ok(first.ms < ANSWER_BOUND_MS, `the first request took ${first.ms.toFixed(0)} ms`);
      const refused = [
        await timedCall(serve, 'GET', '/api/forge/v1/workers'),
        await timedCall(serve, 'POST', '/api/forge/v1/manifests', MANIFEST, json),
        await timedCall(
          serve,
          'POST',
          '/api/image-builder-composer/v2/compose',
          JSON.stringify({
            distribution: 'debian-12',
            image_request: { architecture: 'x86_64', image_type: 'guest-image', repositories: [] },
            blueprint: { name: 'cloud' },
          }),
          json,
        ),
      ];
      for (const r of refused) {
        assert.equal(r.answer.status, 503, r.answer.text());
        assert.ok(r.ms < ANSWER_BOUND_MS, `${r.ms.toFixed(0)} ms`);
      }
      const cloud = refused[2]?.answer.json() as { kind: string; id: string } | undefined;
      assert.deepEqual(
        [cloud?.kind, cloud?.id],
        ['Error', 'FORGE_ERR_REDIS_UNAVAILABLE'],
        'the Cloud envelope',
      );
      // Weldr's start: the error composer-cli shows (it reads only 400, 404 and 500 as errors).
      const weldr = await timedCall(
        serve,
        'POST',
        '/api/v1/compose',
        '{"blueprint_name":"bp","compose_type":"tar","branch":"master"}',
        json,
      );
      assert.equal(weldr.answer.status, 500, weldr.answer.text());
      assert.equal((weldr.answer.json() as { errors: { id: string }[] }).errors[0]?.id, 'ComposePushErrored');
      // Nothing refused was stored: no compose in any list.
      const composes = await call(
        { socket: serve.socket },
        'GET',
        '/api/image-builder-composer/v2/composes/',
      );
      assert.deepEqual(composes.json(), [], composes.text());
      const status = await call({ socket: serve.socket }, 'GET', '/api/status');
      assert.equal(status.status, 200);
      assert.match(statusMsgs(status).join('\n'), /Redis is unreachable/);
      assert.equal((status.json() as { backend: string }).backend, 'osbuild-composer');
      const health = await call({ socket: serve.socket }, 'GET', '/api/forge/v1/health');
      assert.equal(health.status, 503);
      assert.equal((health.json() as { redis: { reachable: boolean } }).redis.reachable, false);
      // A test compose needs no queue: it still works.
      assert.equal((await testCompose(serve)).status, 200);
      console.log(
        `# SIGSTOP: first request 503 after ${first.ms.toFixed(0)} ms, then ${[...refused, weldr].map((r) => r.ms.toFixed(0)).join(', ')} ms`,
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const back = performance.now();
    await until('healthy again after SIGCONT', async () => ((await healthy(serve)) ? true : undefined));
    console.log(`# SIGCONT: healthy again after ${(performance.now() - back).toFixed(0)} ms`);
    assert.deepEqual(statusMsgs(await call({ socket: serve.socket }, 'GET', '/api/status')), []);
    assert.equal((await call({ socket: serve.socket }, 'GET', '/api/forge/v1/queue')).status, 200);
  });

  it('Redis killed: 503 at once, the service starts it again by itself, composes are accepted and built again', async () => {
    const pid = redisPid(serve);
    const killed = performance.now();
    process.kill(pid, 'SIGKILL');
    const first = await timedCall(serve, 'GET', '/api/forge/v1/queue');
    assert.equal(first.answer.status, 503, first.answer.text());
    assert.ok(first.ms < ANSWER_BOUND_MS, `${first.ms.toFixed(0)} ms`);
    const restarted = await until('a new redis-server', async () => {
      const now = redisPid(serve);
      return now !== pid && pidAlive(now) && (await healthy(serve)) ? now : undefined;
    });
    const recovery = performance.now() - killed;
    console.log(
      `# SIGKILL: 503 in ${first.ms.toFixed(0)} ms; redis-server ${pid} → ${restarted}, healthy again ${recovery.toFixed(0)} ms after the kill`,
    );
    assert.match(
      serve.output(),
      new RegExp(`redis-server \\(pid ${pid}\\) was killed by SIGKILL; starting it again in 0\\.5 s`),
    );
    assert.equal((await testCompose(serve)).status, 200);
    const manifest = await call({ socket: serve.socket }, 'POST', '/api/forge/v1/manifests', MANIFEST, json);
    assert.equal(manifest.status, 201, manifest.text());
    const uuid = (manifest.json() as { id: string }).id;
    if (noBuild) return;
    const done = await composeEnd(serve, uuid);
    assert.equal(done.state, 'COMPLETED', JSON.stringify(done));
  });

  it('Redis killed five times in a row: the service recovers each time, with one line per restart and no stack trace', async () => {
    const recoveries: number[] = [];
    const accepted: string[] = [];
    for (let round = 1; round <= 5; round++) {
      await until('healthy before the kill', async () => ((await healthy(serve)) ? true : undefined));
      const pid = redisPid(serve);
      const killed = performance.now();
      process.kill(pid, 'SIGKILL');
      const refused = await timedCall(serve, 'POST', '/api/forge/v1/manifests', MANIFEST, json);
      assert.equal(refused.answer.status, 503, `round ${round}: ${refused.answer.text()}`);
      assert.ok(refused.ms < ANSWER_BOUND_MS);
      await until(`round ${round}: a new redis-server answers`, async () => {
        const now = redisPid(serve);
        return now !== pid && (await healthy(serve)) ? true : undefined;
      });
      recoveries.push(performance.now() - killed);
      const compose = await call({ socket: serve.socket }, 'POST', '/api/forge/v1/manifests', MANIFEST, json);
      assert.equal(compose.status, 201, `round ${round}: ${compose.text()}`);
      accepted.push((compose.json() as { id: string }).id);
    }
    console.log(
      `# 5 × SIGKILL: healthy again after ${recoveries.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (back-off doubles)`,
    );
    const out = serve.output();
    const waits = [
      ...out.matchAll(
        /the private redis-server \(pid \d+\) was killed by SIGKILL; starting it again in ([\d.]+) s/g,
      ),
    ].map((m) => Number(m[1]));
    assert.equal(waits.length, 6, 'one line for each of the 6 kills of this file');
    // The five kills in a row come faster than a server must run for the wait to start over.
    for (let i = 2; i < waits.length; i++) {
      assert.equal(waits[i], Math.min(2 * (waits[i - 1] as number), 30), `waits ${waits.join(', ')}`);
    }
    assert.deepEqual(stackLines(out), []);
    const down = out.match(/Redis is unreachable/g) ?? [];
    const up = out.match(/Redis is reachable again/g) ?? [];
    assert.equal(down.length, 7, 'one warning per outage (SIGSTOP and six kills)');
    assert.equal(up.length, 7, 'one info per return');
    if (noBuild) return;
    // Composes accepted between the kills build (some were running when Redis died); their ends
    // reach the API through the event stream, which reconnected each time.
    for (const uuid of accepted) {
      const end = await composeEnd(serve, uuid);
      assert.equal(end.state, 'COMPLETED', JSON.stringify(end));
    }
  });
});

describe('forge serve: a job queued before Redis is killed survives it', {
  skip,
  timeout: 5 * 60_000,
}, () => {
  it('the job is read back from the append-only file and its compose stays QUEUED', async () => {
    const dir = tempDir('forge-faults-redis-aof-');
    const serve = await startServe(join(dir.path, 'state'), ['--workers', '0']);
    try {
      const queued = await call({ socket: serve.socket }, 'POST', '/api/forge/v1/manifests', MANIFEST, json);
      assert.equal(queued.status, 201, queued.text());
      const uuid = (queued.json() as { id: string }).id;
      const pid = redisPid(serve);
      process.kill(pid, 'SIGKILL');
      await until('a new redis-server', async () =>
        redisPid(serve) !== pid && (await healthy(serve)) ? true : undefined,
      );
      const counts = (await call({ socket: serve.socket }, 'GET', '/api/forge/v1/queue')).json() as {
        queued: number;
      };
      assert.equal(counts.queued, 1);
      // The lifecycle reconciled on Redis' return and found the job: the compose is not lost.
      await new Promise((r) => setTimeout(r, 500));
      const c = (await call({ socket: serve.socket }, 'GET', `/api/forge/v1/composes/${uuid}`)).json() as {
        state: string;
      };
      assert.equal(c.state, 'QUEUED');
    } finally {
      await serve.stop();
      dir.cleanup();
    }
  });
});

describe('forge serve: SIGTERM while Redis hangs or is gone', { skip, timeout: 5 * 60_000 }, () => {
  for (const how of ['SIGSTOP', 'SIGKILL'] as const) {
    it(`stops within ${STOP_BOUND_MS / 1000} s when its redis-server got ${how}`, async () => {
      const dir = tempDir('forge-faults-redis-stop-');
      const serve = await startServe(join(dir.path, 'state'), ['--workers', '1']);
      try {
        const pid = redisPid(serve);
        process.kill(pid, how);
        // What a request finds then: the service is away from Redis when it gets SIGTERM.
        assert.equal((await call({ socket: serve.socket }, 'GET', '/api/forge/v1/queue')).status, 503);
        const started = performance.now();
        const code = await serve.stop('SIGTERM');
        const ms = performance.now() - started;
        console.log(`# SIGTERM with redis-server ${how}: exited ${code} after ${ms.toFixed(0)} ms`);
        assert.equal(code, 0, serve.output());
        assert.ok(ms < STOP_BOUND_MS, `stopping took ${ms.toFixed(0)} ms`);
        assert.equal(pidAlive(pid), false, 'the redis-server is gone too');
        const pidFile = serveStatePaths(serve.stateDir).redisPid;
        if (existsSync(pidFile))
          assert.equal(pidAlive(redisPid(serve)), false, 'and no restarted one is left');
        assert.match(serve.output(), /forge serve: stopped/);
      } finally {
        await serve.stop('SIGKILL');
        dir.cleanup();
      }
    });
  }
});
