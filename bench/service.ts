/**
 * The compose service under load, with autocannon against a service started as `forge serve`
 * starts it (in this process: real Redis — a private redis-server —, SQLite in a temporary state
 * directory, the TCP listener with a bearer token; no workers, as nothing here is built):
 *
 *   GET  /api/status
 *   GET  /api/v0/blueprints/list            with 1,000 blueprints pushed (default page, and limit=1000)
 *   POST /api/v0/compose?test=2             compose submissions (the manifest made through apt, as for
 *                                           a build, then a fake finish)
 *
 * For each: requests per second, latency p50 and p99. osbuild-composer cannot run here, so there
 * is no side-by-side figure for it.
 *
 *   node --import tsx bench/service.ts [--duration S] [--connections N]   (npm run bench:service)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '@debian-forge/cli/service';
import { VERSION } from '@debian-forge/cli/version';
import autocannon from 'autocannon';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = Number(i >= 0 ? process.argv[i + 1] : Number.NaN);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
const DURATION = arg('duration', 10);
const CONNECTIONS = arg('connections', 10);
const BLUEPRINTS = 1000;
const TOKEN = 'bench-token';

const dir = mkdtempSync(join(tmpdir(), 'forge-bench-service-'));
const service = await startService({
  stateDir: dir,
  socket: null,
  tcp: { host: '127.0.0.1', port: 0 },
  tokens: [TOKEN],
  workers: 0,
  version: VERSION,
});
const url = service.listening.url as string;
const headers = { authorization: `Bearer ${TOKEN}` };

try {
  const started = Date.now();
  for (let i = 0; i < BLUEPRINTS; i++) {
    const toml = `name = "bench-${String(i).padStart(4, '0')}"\ndescription = "benchmark blueprint ${i}"\nversion = "0.0.1"\n\n[[packages]]\nname = "curl"\n`;
    const res = await service.app.inject({
      method: 'POST',
      url: '/api/v0/blueprints/new',
      headers: { ...headers, 'content-type': 'text/x-toml' },
      payload: toml,
    });
    if (res.statusCode !== 200) throw new Error(`pushing blueprint ${i}: ${res.statusCode} ${res.body}`);
  }
  const pushMs = Date.now() - started;

  const cases = [
    { name: 'GET /api/status', method: 'GET', path: '/api/status' },
    {
      name: `GET /api/v0/blueprints/list (${BLUEPRINTS}, default page)`,
      method: 'GET',
      path: '/api/v0/blueprints/list',
    },
    {
      name: `GET /api/v0/blueprints/list?limit=${BLUEPRINTS}`,
      method: 'GET',
      path: `/api/v0/blueprints/list?limit=${BLUEPRINTS}`,
    },
    {
      name: 'POST /api/v0/compose?test=2',
      method: 'POST',
      path: '/api/v0/compose?test=2',
      body: JSON.stringify({ blueprint_name: 'bench-0000', compose_type: 'qcow2', branch: 'master' }),
    },
  ];

  process.stdout.write(
    `forge serve in-process (private redis-server, SQLite in ${dir}), TCP with a bearer token; ` +
      `${CONNECTIONS} connections, ${DURATION} s each; ${BLUEPRINTS} blueprints pushed in ${(pushMs / 1000).toFixed(1)} s\n\n`,
  );
  const rows: string[][] = [['request', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'errors']];
  for (const c of cases) {
    const run = (duration: number) =>
      autocannon({
        url: `${url}${c.path}`,
        method: c.method,
        headers: c.body ? { ...headers, 'content-type': 'application/json' } : headers,
        ...(c.body ? { body: c.body } : {}),
        connections: CONNECTIONS,
        duration,
      });
    await run(1); // warm-up: JIT and connection set-up are not what is measured
    const result = await run(DURATION);
    const bad = result.errors + result.timeouts + result.non2xx;
    rows.push([
      c.name,
      result.requests.average.toFixed(0),
      String(result.latency.p50),
      String(result.latency.p99),
      String(result.requests.total),
      String(bad),
    ]);
  }
  const composes = service.deps.store.composes.list({ limit: 0 }).total;
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) {
    process.stdout.write(
      `${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}\n`,
    );
  }
  process.stdout.write(
    `\n${composes} fake composes (?test=2) recorded.\n` +
      'osbuild-composer: not available here (not in the Debian archive, and no network beyond the npm registry ' +
      'and the Debian mirror), so there is no figure of it to compare with.\n',
  );
} finally {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
}
