import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WorkerErrorCode } from './errors.ts';
import { fetchPlan } from './plan.ts';

const PLAN = {
  compose_id: 'c1',
  job_id: 'build-c1',
  image_type: 'tar',
  manifest: { version: '2', pipelines: [{ name: 'tree', stages: [] }] },
  exports: ['tree'],
  artifact: { filename: 'root.tar', mimeType: 'application/x-tar' },
  checkpoints: ['os'],
  layers: [
    [
      {
        name: 'zlib1g',
        epoch: 1,
        version: '1.2.13.dfsg',
        release: '1',
        arch: 'amd64',
        size: 87_000,
        sha256: 'a'.repeat(64),
        repository: 'debian.sources#1',
        url: 'http://mirror.invalid/debian/pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb',
      },
    ],
  ],
};

/** A server answering each request with the next of `answers` ([status, body]). */
async function server(answers: [number, unknown][]) {
  const seen: IncomingMessage[] = [];
  const srv = createServer((req, res) => {
    seen.push(req);
    const [status, body] = answers.shift() ?? [500, { code: 'FORGE_ERR_INTERNAL', message: 'none left' }];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return { api: { url: `http://127.0.0.1:${port}`, token: 'tok' }, seen, close: () => srv.close() };
}

const refusedWith = (pattern: RegExp) => (err: { code?: string; message: string }) =>
  err.code === WorkerErrorCode.PLAN_REFUSED && pattern.test(err.message) && /: not built$/.test(err.message);

test('the plan of a job: asked with the token, a 5xx retried, checked against the job', async (t) => {
  const s = await server([
    [503, { code: 'FORGE_ERR_UNAVAILABLE', message: 'restarting' }],
    [200, PLAN],
  ]);
  t.after(s.close);
  const lines: string[] = [];
  assert.deepEqual(
    await fetchPlan(s.api, 'c1', 'build-c1', { retryDelayMs: 5, log: (l) => lines.push(l) }),
    PLAN,
  );
  assert.equal(s.seen.length, 2);
  assert.equal(s.seen[1]?.url, '/api/forge/v1/composes/c1/plan?job=build-c1');
  assert.equal(s.seen[1]?.headers.authorization, 'Bearer tok');
  assert.match(lines[0] ?? '', /503 FORGE_ERR_UNAVAILABLE: restarting\); again in 5 ms/);
});

test('a job the API did not queue, or an answer that is not its plan, is refused at once', async (t) => {
  const cases: [string, [number, unknown], RegExp][] = [
    [
      'unknown compose',
      [404, { code: 'FORGE_ERR_COMPOSE_NOT_FOUND', message: 'no' }],
      /404 FORGE_ERR_COMPOSE_NOT_FOUND/,
    ],
    ['another job', [409, { code: 'FORGE_ERR_COMPOSE_JOB', message: 'no' }], /409 FORGE_ERR_COMPOSE_JOB/],
    ['no token', [401, { code: 'Unauthorized', message: 'token' }], /401 Unauthorized/],
    ['not JSON', [200, 'hello'], /not JSON/],
    ['not a plan', [200, { ...PLAN, exports: [] }], /not a plan/],
    ['more than a plan', [200, { ...PLAN, run: 'this' }], /not a plan/],
    ['no artifact', [200, { ...PLAN, artifact: undefined }], /not a plan/],
    ['a package without its checksum', [200, { ...PLAN, layers: [[{ name: 'x' }]] }], /not a plan/],
    ["another job's plan", [200, { ...PLAN, job_id: 'build-c2' }], /a plan for job build-c2 of compose c1/],
  ];
  for (const [what, answer, pattern] of cases) {
    const s = await server([answer]);
    t.after(s.close);
    await assert.rejects(fetchPlan(s.api, 'c1', 'build-c1', { retryDelayMs: 5 }), refusedWith(pattern), what);
    assert.equal(s.seen.length, 1, `${what}: not retried`);
  }
});
