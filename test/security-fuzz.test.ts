/**
 * A property-based fuzzer over every route of the OpenAPI document, against the real `forge serve`
 * (the CLI as a child process, over its unix socket and over TCP with the token). fast-check makes
 * runs of requests (test/api-fuzz.fixture.ts); after each run the property checks:
 * - no answer was a server error (5xx), apart from Weldr's upload routes, which answer 501 as
 *   osbuild-composer's do, and Weldr's compose start when apt cannot read a source the run added
 *   (the fuzzer's sources point at a closed port): `DepsolveError` with 500, osbuild-composer's
 *   answer for a depsolve that fails;
 * - everything the run stored can still be listed, read and deleted through the API: every
 *   blueprint, every source that is not a system source, every compose (cancelled first when it
 *   has not finished) — and afterwards nothing is left, so each run starts from an empty service.
 * A failure prints the shortest run fast-check found, with its seed; FORGE_FUZZ_SEED replays it.
 * FORGE_FUZZ_RUNS sets the number of runs (default 100).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Answer, call } from '@debian-forge/api/testing/http-client';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import fc from 'fast-check';
import { type FuzzRequest, KNOWN_UUID, requestArbitrary } from './api-fuzz.fixture.ts';
import { tempDir } from './engine.fixture.ts';

const skip = existsSync('/usr/bin/redis-server') ? undefined : 'needs redis-server (scripts/debian-packages)';
if (skip) console.log(`# skipping the API fuzzer: ${skip}`);

const RUNS = Number(process.env.FORGE_FUZZ_RUNS ?? 100);
const SEED = process.env.FORGE_FUZZ_SEED === undefined ? undefined : Number(process.env.FORGE_FUZZ_SEED);
/** How long one request may take; routes that run apt take seconds the first time. */
const ANSWER_MS = 60_000;
const WELDR_501 = /^\/api\/v1\/(compose\/uploads\/|upload\/)/;
/** Weldr's compose start, refused because apt could not read a source of the run's own. */
const WELDR_COMPOSE = /^\/api\/v[01]\/compose\?/;
const UNREADABLE_SOURCE =
  /^\{"status":false,"errors":\[\{"id":"DepsolveError","msg":"apt-get update failed for repository 'source-fuzz/;

interface Stats {
  requests: number;
  byStatus: Map<number, number>;
  stored: { blueprints: number; sources: number; composes: number };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}

/** A request in a line, its path and body cut short. */
function shortly(req: FuzzRequest): string {
  const body =
    req.body === undefined
      ? ''
      : ` [${req.contentType ?? ''}, ${req.body.length} bytes] ${req.body.slice(0, 160)}`;
  return `${req.via}: ${req.method} ${req.path.slice(0, 200)}${body}`;
}

describe('the API under fuzzing', { skip, timeout: 30 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  let socket: { socket: string };
  const stats: Stats = {
    requests: 0,
    byStatus: new Map(),
    stored: { blueprints: 0, sources: 0, composes: 0 },
  };

  before(async () => {
    dir = tempDir('forge-fuzz-');
    // No workers: raw manifests stay QUEUED. Weldr's compose start answers at once (--plan-wait 0).
    serve = await startServe(join(dir.path, 'state'), ['--workers', '0', '--plan-wait', '0']);
    socket = { socket: serve.socket };
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  /** Sends one request of a run; compose ids in answers join `known` for later requests. */
  async function send(req: FuzzRequest, known: string[]): Promise<Answer> {
    const path = req.path
      .replaceAll(encodeURIComponent(KNOWN_UUID), KNOWN_UUID)
      .replace(
        new RegExp(KNOWN_UUID, 'g'),
        () => known[Math.floor(Math.random() * known.length)] ?? '00000000-0000-4000-8000-000000000000',
      );
    const target = req.via === 'socket' ? socket : { url: serve.url, token: serve.token };
    const headers: Record<string, string> = { ...req.headers };
    if (req.contentType) headers['content-type'] = req.contentType;
    const t0 = Date.now();
    const answer = await withTimeout(
      call(target, req.method, path, req.method === 'GET' ? undefined : req.body, headers),
      ANSWER_MS,
      `no answer within ${ANSWER_MS / 1000} s: ${req.method} ${path.slice(0, 200)}`,
    );
    stats.requests++;
    const took = Date.now() - t0;
    if (took > 1000) console.error(`SLOW ${took} ms ${req.method} ${path.slice(0, 150)}`);
    stats.byStatus.set(answer.status, (stats.byStatus.get(answer.status) ?? 0) + 1);
    const text = answer.text();
    for (const m of text.matchAll(/"(?:build_id|id|uuid)":"([0-9a-f-]{36})"/g)) known.push(m[1] as string);
    return answer;
  }

  /** Lists, reads and deletes everything stored; returns what was wrong. */
  async function sweep(): Promise<string[]> {
    const problems: string[] = [];
    const get = async (path: string) => {
      const a = await call(socket, 'GET', path);
      if (a.status !== 200) problems.push(`GET ${path}: ${a.status} ${a.text().slice(0, 300)}`);
      return a.status === 200 ? (a.json() as Record<string, unknown>) : {};
    };
    const del = async (method: string, path: string, ok: (a: Answer) => boolean) => {
      const a = await call(socket, method, path);
      if (!ok(a)) problems.push(`${method} ${path}: ${a.status} ${a.text().slice(0, 300)}`);
    };

    const total = Number((await get('/api/v1/blueprints/list?limit=0')).total ?? 0);
    const names = ((await get(`/api/v1/blueprints/list?limit=${total}`)).blueprints ?? []) as string[];
    for (const n of names) {
      stats.stored.blueprints++;
      const info = await get(`/api/v1/blueprints/info/${encodeURIComponent(n)}`);
      if (((info.errors ?? []) as unknown[]).length > 0) {
        problems.push(
          `blueprint ${JSON.stringify(n)} is listed but cannot be read: ${JSON.stringify(info.errors)}`,
        );
      }
      await del('DELETE', `/api/v1/blueprints/workspace/${encodeURIComponent(n)}`, (a) => a.status < 500);
      await del('DELETE', `/api/v1/blueprints/delete/${encodeURIComponent(n)}`, (a) => a.status === 200);
    }
    const left = (await get('/api/v1/blueprints/list?limit=1000')).blueprints as string[] | undefined;
    if (left?.length)
      problems.push(`blueprints left after deleting each: ${JSON.stringify(left).slice(0, 300)}`);

    const sources = (await get('/api/v1/projects/source/info/*')).sources as
      | Record<string, { system?: boolean }>
      | undefined;
    for (const [id, s] of Object.entries(sources ?? {})) {
      if (s.system) continue;
      stats.stored.sources++;
      await get(`/api/v1/projects/source/info/${encodeURIComponent(id)}`);
      await del(
        'DELETE',
        `/api/v1/projects/source/delete/${encodeURIComponent(id)}`,
        (a) => a.status === 200,
      );
    }
    const after = (await get('/api/v1/projects/source/info/*')).sources as Record<
      string,
      { system?: boolean }
    >;
    const userLeft = Object.entries(after ?? {}).filter(([, s]) => !s.system);
    if (userLeft.length)
      problems.push(`sources left after deleting each: ${userLeft.map(([id]) => JSON.stringify(id))}`);

    const queue = await get('/api/v1/compose/queue');
    const waiting = [...((queue.new ?? []) as { id: string }[]), ...((queue.run ?? []) as { id: string }[])];
    for (const c of waiting) {
      await del('DELETE', `/api/v1/compose/cancel/${c.id}`, (a) => a.status === 200 || a.status === 400);
    }
    const ids = new Set(waiting.map((c) => c.id));
    for (const list of ['finished', 'failed'] as const) {
      for (const c of ((await get(`/api/v1/compose/${list}`))[list] ?? []) as { id: string }[]) ids.add(c.id);
    }
    for (const id of ids) {
      stats.stored.composes++;
      // Weldr's and the Forge API's composes are not the Cloud API's.
      await del('GET', `/api/image-builder-composer/v2/composes/${id}`, (a) => a.status === 404);
      await get(`/api/forge/v1/composes/${id}`);
      await del('DELETE', `/api/v1/compose/delete/${id}`, (a) => {
        const body = a.status === 200 ? (a.json() as { errors?: unknown[] }) : undefined;
        return body !== undefined && (body.errors ?? []).length === 0;
      });
    }
    // The Cloud API lists its own composes: each is read, ended (Weldr's cancel) and deleted there.
    const cloudList = async () => {
      const a = await call(socket, 'GET', '/api/image-builder-composer/v2/composes/');
      if (a.status !== 200)
        problems.push(`GET the Cloud compose list: ${a.status} ${a.text().slice(0, 300)}`);
      return a.status === 200 ? (a.json() as { id: string; status: string }[]) : [];
    };
    for (const c of await cloudList()) {
      stats.stored.composes++;
      await get(`/api/image-builder-composer/v2/composes/${c.id}`);
      await get(`/api/image-builder-composer/v2/composes/${c.id}/metadata`);
      if (c.status === 'pending') {
        await del('DELETE', `/api/v1/compose/cancel/${c.id}`, (a) => a.status === 200 || a.status === 400);
      }
      await del('DELETE', `/api/image-builder-composer/v2/composes/${c.id}`, (a) => a.status === 200);
    }
    const cloudLeft = await cloudList();
    if (cloudLeft.length) problems.push(`Cloud composes left after deleting each: ${cloudLeft.length}`);
    const queueAfter = await get('/api/v1/compose/queue');
    const finishedAfter = await get('/api/v1/compose/finished');
    const failedAfter = await get('/api/v1/compose/failed');
    const composesLeft = [
      ...((queueAfter.new ?? []) as unknown[]),
      ...((queueAfter.run ?? []) as unknown[]),
      ...((finishedAfter.finished ?? []) as unknown[]),
      ...((failedAfter.failed ?? []) as unknown[]),
    ];
    if (composesLeft.length) problems.push(`composes left after deleting each: ${composesLeft.length}`);
    return problems;
  }

  it('answers every request without a server error and keeps everything stored listable and deletable', async (t) => {
    const request = requestArbitrary();
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 5, maxLength: 25 }), async (requests) => {
        const known: string[] = [];
        const errors: string[] = [];
        for (const req of requests) {
          const answer = await send(req, known);
          const allowed =
            (answer.status === 501 && WELDR_501.test(req.path)) ||
            (answer.status === 500 && WELDR_COMPOSE.test(req.path) && UNREADABLE_SOURCE.test(answer.text()));
          if (answer.status >= 500 && !allowed) {
            errors.push(
              `${req.operation} → ${req.method} ${req.path.slice(0, 200)}: ${answer.status} ${answer.text().slice(0, 300)}`,
            );
          }
        }
        errors.push(...(await sweep()));
        assert.deepEqual(errors, []);
      }),
      {
        numRuns: RUNS,
        ...(SEED === undefined ? {} : { seed: SEED }),
        // The default report prints whole bodies (some are 100 kB of nested JSON): this one cuts them.
        reporter: (details) => {
          if (!details.failed) return;
          const run = (details.counterexample?.[0] ?? []).map(shortly).join('\n  ');
          throw new Error(
            `the fuzzer failed after ${details.numRuns} run(s) (replay with FORGE_FUZZ_SEED=${details.seed}); ` +
              `the shortest failing run it found (shrunk ${details.numShrinks} times):\n  ${run}\n` +
              `what was wrong:\n${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance).slice(0, 4000)}`,
          );
        },
      },
    );
    const seconds = (Date.now() - started) / 1000;
    const statuses = [...stats.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    t.diagnostic(
      `${RUNS} runs, ${stats.requests} requests in ${seconds.toFixed(1)} s (${statuses.join(' ')}); ` +
        `stored then read and deleted: ${stats.stored.blueprints} blueprints, ${stats.stored.sources} sources, ${stats.stored.composes} composes`,
    );
    const status = await call(socket, 'GET', '/api/status');
    assert.equal(status.status, 200);
  });
});
