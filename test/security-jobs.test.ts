/**
 * Issue 10, item 9, "Redis is a door to root on every worker", against the real `forge serve` and
 * `forge worker`:
 * - a Redis with a password: `forge serve` and `forge worker` refuse to run without it or with a
 *   wrong one, in one line, at once, and never print it; with it they run;
 * - jobs written straight into Redis, as anyone who reaches it could (a job of the old shape with a
 *   manifest of its own; jobs naming a compose that does not exist, one that is not queued, one
 *   queued under another job) are failed with a clear reason and never built, while the compose
 *   the API queued is built by the same worker.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { forgeChild, type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { encodeJobName, resolveLocation } from '@debian-forge/queue';
import { startRedis } from '@debian-forge/queue/testing';
import { Queue } from 'bullmq';
import { sandboxUnavailable, tempDir } from './engine.fixture.ts';
import { hello, helloManifest } from './worker.fixture.ts';

const noSandbox = sandboxUnavailable();
if (noSandbox) console.log(`# skipping the job injection test: ${noSandbox}`);

/** `forge ARGS` started now with `env` added to this one's, its output collected. */
function started(args: string[], env: NodeJS.ProcessEnv) {
  const child = forgeChild(args, { ...process.env, ...env });
  let output = '';
  const collect = (b: Buffer) => {
    output += b.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    output: () => output,
    exited,
    async waitFor(pattern: RegExp, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} (exit ${child.exitCode}):\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `forge ARGS` to its end (SIGKILL after `timeoutMs`): its exit code, output and time. */
async function forge(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) {
  const begun = Date.now();
  const run = started(args, env);
  const timer = setTimeout(() => void run.stop(0), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, output: run.output(), ms: Date.now() - begun };
}

test('a Redis with a password: serve and worker refuse a missing or wrong one in one line, never print it, and run with it', async (t) => {
  const redis = await startRedis({ requirepass: 'the-right-secret', tcp: true });
  t.after(() => redis.stop());
  const dir = tempDir('forge-security-jobs-');
  t.after(() => dir.cleanup());
  const at = `127.0.0.1:${redis.port}`;
  const worker = ['worker', '--api-socket', `${dir.path}/no-api.socket`, '--state-dir', `${dir.path}/w`];
  const serve = ['serve', '--state-dir', `${dir.path}/s`, '--listen', 'none', '--workers', '0'];
  const cases: [string, string[], NodeJS.ProcessEnv, number, RegExp][] = [
    ['worker, no password', worker, { REDIS_URL: `redis://${at}` }, 2, /wants a password/],
    ['worker, wrong password', worker, { REDIS_URL: `redis://:not-the-secret@${at}` }, 2, /WRONGPASS/],
    ['serve, no password', [...serve, '--redis', `redis://${at}`], {}, 1, /wants a password/],
    ['serve, wrong password', serve, { REDIS_URL: `redis://:not-the-secret@${at}` }, 1, /WRONGPASS/],
    ['serve, wrong user', serve, { REDIS_URL: `redis://forge-api:the-right-secret@${at}` }, 1, /WRONGPASS/],
  ];
  for (const [what, args, env, exit, reason] of cases) {
    const run = await forge(args, env);
    assert.equal(run.code, exit, `${what}: exit ${run.code}\n${run.output}`);
    assert.match(run.output, reason, what);
    assert.match(run.output, /\[FORGE_ERR_REDIS_AUTH\]\n$/, `${what}: one line with the code`);
    assert.doesNotMatch(
      run.output,
      /not-the-secret|the-right-secret|\n\s+at /,
      `${what}: no password, no stack`,
    );
    assert.ok(run.ms < 15_000, `${what}: refused after ${run.ms} ms`);
  }

  // With the password, both start; what they print shows no password.
  const env = { REDIS_URL: `redis://:the-right-secret@${at}` };
  for (const [args, ready] of [
    [worker, /takes jobs from Redis/],
    [serve, /forge serve: ready/],
  ] as const) {
    const run = started([...args], env);
    t.after(() => run.stop());
    await run.waitFor(ready);
    await run.stop();
    assert.match(run.output(), /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1|takes jobs/);
    assert.doesNotMatch(run.output(), /the-right-secret/);
  }
});

/** Every file name under `dir`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

async function composeOf(serve: Serve, id: string) {
  const res = await call({ socket: serve.socket }, 'GET', `/api/forge/v1/composes/${id}`);
  assert.equal(res.status, 200, res.text());
  return res.json() as { state: string; error: { code: string } | null; artifacts: { sha256: string }[] };
}

test('jobs written straight into Redis are failed with a clear reason and never built; the queued compose is', {
  skip: noSandbox,
}, async (t) => {
  const dir = tempDir('forge-security-jobs-');
  t.after(() => dir.cleanup());
  const serve = await startServe(join(dir.path, 'state'), ['--workers', '0']);
  let worker: ReturnType<typeof started> | undefined;
  // The worker first: it needs the service's Redis to stop cleanly.
  t.after(async () => {
    await worker?.stop();
    await serve.stop();
  });
  const redisUrl = /private redis-server on (unix:\/\/\S+)/.exec(serve.output())?.[1] as string;
  assert.ok(redisUrl, serve.output());

  // What the API queued: one compose waiting for a worker, one cancelled.
  const submit = async (text: string) => {
    const res = await call(
      { socket: serve.socket },
      'POST',
      '/api/forge/v1/manifests',
      JSON.stringify({
        manifest: helloManifest(text),
        exports: ['tree'],
        filename: 'hello',
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(res.status, 201, res.text());
    return (res.json() as { id: string }).id;
  };
  const queued = await submit('queued by the API');
  const cancelled = await submit('cancelled');
  const cancel = await call({ socket: serve.socket }, 'POST', `/api/forge/v1/composes/${cancelled}/cancel`);
  assert.equal(cancel.status, 200, cancel.text());

  // What anyone who reaches Redis can write: BullMQ jobs, more urgent than the API's.
  const { connection } = resolveLocation({ redis: { path: new URL(redisUrl).pathname } });
  const bull = new Queue('jobs', { connection, prefix: 'forge' });
  t.after(() => bull.close());
  const resources = { cpus: 1, memoryMiB: 512, diskGiB: 1 };
  const evil = helloManifest('written into Redis');
  const injected: [string, Record<string, unknown>, RegExp][] = [
    [
      'old-shape',
      {
        type: 'build',
        composeId: queued,
        manifest: evil,
        exports: ['tree'],
        imageType: 'tar',
        filename: 'hello',
        priority: 1000,
        resources,
      },
      /^FORGE_ERR_INVALID_JOB: not a job this worker takes, refused unrun \(job: Unrecognized keys: "manifest", "exports", "imageType", "filename"\)$/,
    ],
    [
      'no-such-compose',
      { type: 'build', composeId: '00000000-0000-4000-8000-000000000000', priority: 1000, resources },
      /^FORGE_ERR_PLAN_REFUSED: the API serves no plan for job no-such-compose of compose 0{8}-.* \(404 FORGE_ERR_COMPOSE_NOT_FOUND: .*\): not built$/,
    ],
    [
      `build-${cancelled}`,
      { type: 'build', composeId: cancelled, priority: 1000, resources },
      /^FORGE_ERR_PLAN_REFUSED: .*\(409 FORGE_ERR_COMPOSE_STATE: compose \S+ is CANCELLED: nothing to build\): not built$/,
    ],
    [
      'another-job',
      { type: 'build', composeId: queued, priority: 1000, resources },
      /^FORGE_ERR_PLAN_REFUSED: .*\(409 FORGE_ERR_COMPOSE_JOB: compose \S+ was not queued as job another-job: nothing to build\): not built$/,
    ],
  ];
  for (const [jobId, data] of injected) {
    await bull.add(encodeJobName('build', resources), data, { jobId, priority: 1 });
  }

  // A worker on another machine: the API over TCP with its token, Redis directly.
  const workerDir = join(dir.path, 'worker');
  const remote = started(['worker', '--api-url', serve.url, '--state-dir', workerDir, '--name', 'remote'], {
    REDIS_URL: redisUrl,
    FORGE_API_TOKEN: serve.token,
  });
  worker = remote;
  const output = remote.output;
  // Every job directory the worker makes, however short-lived.
  const jobDirs = new Set<string>();
  const watch = setInterval(() => {
    for (const f of filesUnder(join(workerDir, 'work')))
      if (f.includes('/')) jobDirs.add(f.split('/')[1] as string);
  }, 20);
  t.after(() => clearInterval(watch));

  const deadline = Date.now() + 120_000;
  while ((await composeOf(serve, queued)).state !== 'COMPLETED') {
    assert.ok(Date.now() < deadline, `compose ${queued} did not complete:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  clearInterval(watch);

  for (const [jobId, , reason] of injected) {
    const job = await bull.getJob(jobId);
    assert.equal(await job?.getState(), 'failed', jobId);
    assert.match(job?.failedReason ?? '', reason, jobId);
    assert.match(output(), new RegExp(`"job":"${jobId}".*job refused`), `${jobId}: the worker says so`);
  }
  // Never built: no job directory but the queued compose's, and nothing of the injected manifest
  // (its inline source) in the worker's store.
  assert.deepEqual(
    [...jobDirs].map((d) => d.replace(/-[^-]+$/, '')),
    [queued],
  );
  const evilSum = createHash('sha256').update(hello('written into Redis')).digest('hex');
  const stored = filesUnder(join(workerDir, 'store'));
  assert.ok(
    stored.some((f) => f.includes(createHash('sha256').update(hello('queued by the API')).digest('hex'))),
  );
  assert.deepEqual(
    stored.filter((f) => f.includes(evilSum)),
    [],
  );

  // The API's composes: the queued one built from its own plan, the cancelled one left alone.
  const built = await composeOf(serve, queued);
  const artifact = await call(
    { url: serve.url, token: serve.token },
    'GET',
    `/api/v0/compose/image/${queued}`,
  );
  assert.deepEqual(artifact.body, hello('queued by the API'));
  assert.equal(
    built.artifacts[0]?.sha256,
    createHash('sha256').update(hello('queued by the API')).digest('hex'),
  );
  const left = await composeOf(serve, cancelled);
  assert.equal(left.state, 'CANCELLED');
  assert.deepEqual(left.artifacts, []);
  const list = await call({ socket: serve.socket }, 'GET', '/api/forge/v1/queue');
  assert.equal((list.json() as { failed: number }).failed, injected.length);
});
