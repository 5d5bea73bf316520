/**
 * The compose service under load against a bare Fastify server, each in a process of its own and
 * the load generator (autocannon's command line) in a third:
 *
 *   forge  `forge serve --workers 0` as the CLI starts it: a private redis-server, SQLite in a
 *          temporary state directory, the TCP listener with a bearer token (sent on every request)
 *   bare   bench/service-peer.ts: Fastify answering the same paths with the bodies forge answered
 *          in this run, and nothing else
 *
 * For `GET /api/status` and `GET /api/v0/blueprints/list` with 1,000 blueprints pushed (the default
 * page, and limit=1000): requests per second, latency p50 and p99 of both, and forge/bare as the
 * ratio of their requests per second (1.00 is Fastify's speed). Forge and the peer are loaded in
 * turn, never at once, `--rounds` times each (the median is shown), so other work on the machine
 * weighs on both alike. Then `--composes` `?test=2` compose submissions (the manifest made through
 * apt, as for a build, then a fake finish) against forge alone, `--compose-connections` at a time;
 * osbuild-composer cannot run here, so there is no peer for them.
 *
 *   node --import tsx bench/service.ts [--duration S] [--rounds N] [--connections N]
 *        [--composes N] [--compose-connections N]   (npm run bench:service)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startServe } from '@debian-forge/cli/testing/serve';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    composes: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    'compose-connections': { type: 'string', default: '20' },
  },
});
function count(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number above 0`);
  return n;
}
const DURATION = count('duration');
const ROUNDS = count('rounds');
const COMPOSES = count('composes');
const CONNECTIONS = count('connections');
const COMPOSE_CONNECTIONS = count('compose-connections');
const BLUEPRINTS = 1000;
const REPO = resolve(import.meta.dirname, '..');
/** autocannon's command line (its main module is also its CLI). */
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');

interface Run {
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  bad: number;
}

interface Load {
  url: string;
  connections: number;
  /** Seconds, or `amount` requests in all. */
  duration?: number;
  amount?: number;
  /** Seconds a request may take (autocannon's default is 10). */
  timeout?: number;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

/** One autocannon run in a child process, read from its `--json` summary. */
async function autocannon(load: Load): Promise<Run> {
  const args = [AUTOCANNON, '--json', '--no-progress', '-c', String(load.connections)];
  if (load.amount !== undefined) args.push('-a', String(load.amount));
  else args.push('-d', String(load.duration ?? DURATION));
  if (load.timeout !== undefined) args.push('-t', String(load.timeout));
  for (const [k, v] of Object.entries(load.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (load.method) args.push('-m', load.method);
  if (load.body !== undefined) args.push('-b', load.body);
  const child = spawn(process.execPath, [...args, load.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`autocannon ${load.url} exited with ${code}:\n${err}`);
  const r = JSON.parse(out) as {
    requests: { total: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  };
  return {
    reqPerSec: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    bad: r.errors + r.timeouts + r.non2xx,
  };
}

const median = (runs: Run[]) => [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec)[runs.length >> 1] as Run;

/** A warm-up second of each (JIT, connections), then `ROUNDS` runs of each in turn; their medians. */
async function measurePair(a: Load, b: Load): Promise<[Run, Run]> {
  await autocannon({ ...a, duration: 1 });
  await autocannon({ ...b, duration: 1 });
  const runs: [Run[], Run[]] = [[], []];
  for (let i = 0; i < ROUNDS; i++) {
    runs[0].push(await autocannon(a));
    runs[1].push(await autocannon(b));
  }
  return [median(runs[0]), median(runs[1])];
}

/** Starts the peer and waits for the address it prints. */
async function startPeer(bodiesFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'bench/service-peer.ts'), bodiesFile],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    const url = /listening on (\S+)/.exec(out)?.[1];
    if (url) return { child, url };
  }
  throw new Error(`the bare Fastify peer did not start: ${out}`);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const dir = mkdtempSync(join(tmpdir(), 'forge-bench-service-'));
const serve = await startServe(join(dir, 'state'), ['--workers', '0']);
const auth = { authorization: `Bearer ${serve.token}` };
let peer: ChildProcess | undefined;

async function forgeGet(path: string): Promise<unknown> {
  const res = await fetch(`${serve.url}${path}`, { headers: auth });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

try {
  const started = performance.now();
  const push = async (i: number) => {
    const name = `bench-${String(i).padStart(4, '0')}`;
    const toml = `name = "${name}"\ndescription = "benchmark blueprint ${i}"\nversion = "0.0.1"\n\n[[packages]]\nname = "curl"\n`;
    const res = await fetch(`${serve.url}/api/v0/blueprints/new`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/x-toml' },
      body: toml,
    });
    if (res.status !== 200) throw new Error(`pushing ${name}: ${res.status} ${await res.text()}`);
  };
  for (let i = 0; i < BLUEPRINTS; i += 10)
    await Promise.all(Array.from({ length: 10 }, (_, k) => push(i + k)));
  const pushSeconds = (performance.now() - started) / 1000;

  const cases = [
    { name: 'GET /api/status', path: '/api/status' },
    { name: `GET /api/v0/blueprints/list (${BLUEPRINTS}, default page)`, path: '/api/v0/blueprints/list' },
    {
      name: `GET /api/v0/blueprints/list?limit=${BLUEPRINTS}`,
      path: `/api/v0/blueprints/list?limit=${BLUEPRINTS}`,
    },
  ];
  const bodies: Record<string, unknown> = {};
  for (const c of cases) bodies[c.path] = await forgeGet(c.path);
  const bodiesFile = join(dir, 'bodies.json');
  writeFileSync(bodiesFile, JSON.stringify(bodies));
  const bare = await startPeer(bodiesFile);
  peer = bare.child;

  process.stdout.write(
    `load average before: ${loadBefore} (${BLUEPRINTS} blueprints pushed in ${pushSeconds.toFixed(1)} s)\n` +
      `forge serve --workers 0 (private redis-server, SQLite, TCP with a bearer token) against bare Fastify, ` +
      `each in its own process; autocannon in a third, ${CONNECTIONS} connections, the median of ${ROUNDS} runs of ` +
      `${DURATION} s each in turn after 1 s of warm-up\n\n`,
  );
  const rows: string[][] = [
    ['request', 'forge req/s', 'p50', 'p99', 'bare req/s', 'p50', 'p99', 'forge/bare', 'errors'],
  ];
  for (const c of cases) {
    const [f, b] = await measurePair(
      { url: `${serve.url}${c.path}`, connections: CONNECTIONS, headers: auth },
      { url: `${bare.url}${c.path}`, connections: CONNECTIONS },
    );
    rows.push([
      c.name,
      f.reqPerSec.toFixed(0),
      `${f.p50} ms`,
      `${f.p99} ms`,
      b.reqPerSec.toFixed(0),
      `${b.p50} ms`,
      `${b.p99} ms`,
      (f.reqPerSec / b.reqPerSec).toFixed(2),
      String(f.bad + b.bad),
    ]);
  }

  // The first submission plans through apt (lists fetched into the state directory): not measured.
  const composePath = '/api/v1/compose?test=2';
  const composeBody = JSON.stringify({
    blueprint_name: 'bench-0000',
    compose_type: 'qcow2',
    branch: 'master',
  });
  const composeHeaders = { ...auth, 'content-type': 'application/json' };
  const first = await fetch(`${serve.url}${composePath}`, {
    method: 'POST',
    headers: composeHeaders,
    body: composeBody,
  });
  if (first.status !== 200) throw new Error(`POST ${composePath}: ${first.status} ${await first.text()}`);
  // Each plans through apt for seconds: a count of requests, not a duration, and a long timeout.
  const c = await autocannon({
    url: `${serve.url}${composePath}`,
    connections: COMPOSE_CONNECTIONS,
    amount: COMPOSES,
    timeout: 600,
    headers: composeHeaders,
    method: 'POST',
    body: composeBody,
  });
  rows.push([
    `POST ${composePath} (${COMPOSES}, ${COMPOSE_CONNECTIONS} clients)`,
    c.reqPerSec < 10 ? c.reqPerSec.toFixed(2) : c.reqPerSec.toFixed(0),
    `${c.p50} ms`,
    `${c.p99} ms`,
    '-',
    '-',
    '-',
    '-',
    String(c.bad),
  ]);

  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) {
    process.stdout.write(
      `${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}\n`,
    );
  }
  const composes = (await forgeGet('/api/v0/compose/finished')) as { finished: unknown[] };
  process.stdout.write(
    `\n${composes.finished.length} fake composes (?test=2) finished; load average after: ${load()}\n` +
      'osbuild-composer: not available here (not in the Debian archive), so compose submissions have no peer.\n',
  );
} finally {
  peer?.kill('SIGTERM');
  await serve.stop();
  rmSync(dir, { recursive: true, force: true });
}
