/**
 * Issue 10, item 9, "Redis is a door to root on every worker", against the real `forge serve` and
 * `forge worker`:
 * - a Redis with a password: `forge serve` and `forge worker` refuse to run without it or with a
 *   wrong one, in one line, at once, and never print it; with it they run;
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { startRedis } from '../packages/queue/src/testing.ts';
import { forgeChild, tempDir } from './engine-helpers.ts';

/** Runs `forge ARGS` with `env` added to this one's; its exit code, output and time. */
async function forge(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) {
  const started = Date.now();
  const child = forgeChild(args, { ...process.env, ...env });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, output, ms: Date.now() - started };
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
  const child = forgeChild(worker, { ...process.env, REDIS_URL: `redis://:the-right-secret@${at}` });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const exited = once(child, 'exit');
  const deadline = Date.now() + 30_000;
  while (!/takes jobs from Redis/.test(output) && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  await exited;
  assert.match(output, /takes jobs from Redis/);
  assert.doesNotMatch(output, /the-right-secret/);
});
