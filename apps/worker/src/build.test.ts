/**
 * How runBuild reads why `forge build` failed: a program in its place prints what it is given on
 * stdout and stderr and exits with a status, as a real child process (the real engine's output is
 * covered by test/worker.test.ts and packages/engine's json-result.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBuild } from './build.ts';
import { WorkerErrorCode } from './errors.ts';

/** The error runBuild throws when `forge build` prints `stdout` and `stderr` and exits with `status`. */
async function failureOf(
  stdout: string,
  stderr: string,
  status: number,
): Promise<{ code: string; message: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-worker-build-'));
  try {
    const script =
      'process.stdout.write(process.argv[1]); process.stderr.write(process.argv[2]); process.exitCode = Number(process.argv[3]);';
    await runBuild({
      forgeCommand: [process.execPath, '-e', script, stdout, stderr, String(status)],
      manifestPath: join(dir, 'manifest.json'),
      outputDirectory: join(dir, 'out'),
      storeDir: join(dir, 'store'),
      rundir: join(dir, 'run'),
      exports: ['tree'],
      signal: new AbortController().signal,
      onEvent: () => {},
    });
  } catch (err) {
    const { code, message } = err as { code: string; message: string };
    return { code, message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error('the build did not fail');
}

const stageFailed = JSON.stringify({
  type: 'error',
  success: false,
  error: {
    type: 'org.osbuild.error.stage',
    details: { stage: { id: 'a1', type: 'org.osbuild.mkdir', output: 'no room\n', error: null } },
  },
  sources: { success: true },
  log: {},
});

test('a result object says which stage or source failed', async () => {
  assert.deepEqual(await failureOf(`${stageFailed}\n`, 'ignored\n', 1), {
    code: WorkerErrorCode.BUILD_FAILED,
    message: 'stage org.osbuild.mkdir failed:\nno room',
  });
  const sourceFailed = JSON.stringify({
    type: 'error',
    success: false,
    error: {
      type: 'org.osbuild.error.source',
      details: { source: { type: 'org.osbuild.curl', output: 'HTTP 404' } },
    },
    sources: { success: false },
    log: {},
  });
  const source = await failureOf(sourceFailed, '', 1);
  assert.equal(source.message, 'source org.osbuild.curl failed: HTTP 404');
});

test("validation errors are the manifest's, one path a line", async () => {
  const invalid = JSON.stringify({
    type: 'https://osbuild.org/validation-error',
    title: 'JSON Schema validation failed',
    success: false,
    errors: [
      { message: "'rwx' is not of type 'number'", path: ['pipelines', 0, 'stages', 0, 'options', 'mode'] },
      { message: "'pipelines' is a required property", path: [] },
    ],
  });
  assert.deepEqual(await failureOf(invalid, '', 2), {
    code: WorkerErrorCode.INVALID_MANIFEST,
    message:
      "forge build refused the manifest: pipelines.0.stages.0.options.mode: 'rwx' is not of type 'number'\n: 'pipelines' is a required property",
  });
});

test('output that is not a result is not trusted: standard error says why', async () => {
  // A stage error whose fields are not what the engine writes, a document cut short, plain text.
  const forged = stageFailed.replace('"output":"no room\\n"', '"output":["rm","-rf"]');
  for (const stdout of [forged, stageFailed.slice(0, 40), 'Failed\n', '']) {
    const failure = await failureOf(stdout, 'forge build: the store is locked\n', 1);
    assert.deepEqual(failure, {
      code: WorkerErrorCode.BUILD_FAILED,
      message: 'forge build failed (exit status 1): forge build: the store is locked',
    });
  }
  const refused = await failureOf('{"errors": "everything"}', 'forge build: unsupported manifest\n', 2);
  assert.equal(refused.message, 'forge build refused the manifest: forge build: unsupported manifest');
});
