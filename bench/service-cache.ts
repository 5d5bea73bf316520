/**
 * Cached builds, `forge compose` against the service, in one run (issue 11, item 2): the tar image
 * of blueprints/minimal.toml composed
 *
 *   CLI      `forge compose --type tar` (the real CLI, a child process), state directory A
 *   service  `forge serve` in this process (private redis-server, one worker, TCP with a token):
 *            blueprint pushed and compose started over the Weldr API, followed to its end through
 *            the Forge API's event stream, state directory B
 *
 * each first from an empty store (warm-up, not compared), then again with the store warm (the
 * median of `--runs` composes), then with one package added to the blueprint. The state
 * directories (apt lists, stores, downloaded .debs) are apart, so each side builds its own layers
 * and fetches the added package itself. For the service, where the time goes: planning (PENDING →
 * QUEUED: apt), waiting in the queue (QUEUED → BUILDING), the build, the artifact upload, the end.
 *
 *   node --import tsx bench/service-cache.ts [--runs N] [--package NAME]   (npm run bench:service-cache)
 *
 * FORGE_BENCH_STATE_DIR keeps the state directories there (else a temporary directory, removed at
 * the end); the added package's layer is then cached on a second run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { call, followEvents } from '@debian-forge/api/testing/http-client';
import { startService } from '@debian-forge/cli/service';
import { VERSION } from '@debian-forge/cli/version';

const REPO = resolve(import.meta.dirname, '..');
const FORGE = join(REPO, 'apps/cli/bin/forge.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const RUNS = Math.max(1, Number(arg('runs', '3')) || 3);
const EXTRA = arg('package', 'tree');
const TOKEN = 'bench-token';

const kept = process.env.FORGE_BENCH_STATE_DIR;
const root = kept ? resolve(kept) : mkdtempSync(join(tmpdir(), 'forge-bench-cache-'));
mkdirSync(root, { recursive: true });
const cliState = join(root, 'cli');
const serviceState = join(root, 'service');

const base = readFileSync(join(REPO, 'blueprints/minimal.toml'), 'utf8');
const blueprints = {
  base: base.replace(/^name = "minimal"$/m, 'name = "bench-cache"'),
  plus: `${base.replace(/^name = "minimal"$/m, 'name = "bench-cache-plus"').replace(/\n\[customizations\]/, `\n[[packages]]\nname = "${EXTRA}"\n\n[customizations]`)}`,
};
const files = Object.fromEntries(
  Object.entries(blueprints).map(([k, toml]) => {
    const path = join(root, `${k}.toml`);
    writeFileSync(path, toml);
    return [k, path];
  }),
) as Record<keyof typeof blueprints, string>;

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** `forge compose` of a tar image; the wall time, and when planning (apt) was done. */
async function cliCompose(which: keyof typeof blueprints): Promise<{ ms: number; planMs: number }> {
  const started = performance.now();
  let planMs = 0;
  const out = join(root, 'cli-out');
  const child = spawn(
    process.execPath,
    [FORGE, 'compose', files[which], '--type', 'tar', '--state-dir', cliState, '--output', out],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  const collect = (b: Buffer) => {
    text += b.toString();
    if (!planMs && /^Composing /m.test(text)) planMs = performance.now() - started;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`forge compose ${which} failed (${code}):\n${text.slice(-3000)}`);
  rmSync(out, { recursive: true, force: true });
  return { ms: performance.now() - started, planMs };
}

interface ServicePhases {
  ms: number;
  plan: number;
  queue: number;
  build: number;
  upload: number;
  end: number;
  stages: string[];
}

const service = await startService({
  stateDir: serviceState,
  socket: null,
  tcp: { host: '127.0.0.1', port: 0 },
  tokens: [TOKEN],
  workers: 1,
  version: VERSION,
});
const tcp = { url: service.listening.url as string, token: TOKEN };

/** One compose through the service, from the request to COMPLETED, with the time of each phase. */
async function serviceCompose(which: keyof typeof blueprints): Promise<ServicePhases> {
  const name = which === 'base' ? 'bench-cache' : 'bench-cache-plus';
  const started = performance.now();
  const res = await call(
    tcp,
    'POST',
    '/api/v0/compose',
    JSON.stringify({ blueprint_name: name, compose_type: 'tar', branch: 'master' }),
    {
      'content-type': 'application/json',
    },
  );
  if (res.status !== 200) throw new Error(`compose ${which}: ${res.status} ${res.text()}`);
  const id = (res.json() as { build_id: string }).build_id;
  const at: Record<string, number> = {};
  const stages: string[] = [];
  const logs: string[] = [];
  await followEvents(tcp, `/api/forge/v1/events?compose=${id}`, (e) => {
    const now = performance.now() - started;
    const data = JSON.parse(e.data) as { state?: string; line?: string };
    if (e.event === 'state' && data.state) at[data.state] ??= now;
    if (e.event === 'log' && data.line !== undefined) {
      logs.push(data.line);
      const stage = /^pipeline (\S+): stage \d+ of \d+ \((\S+)\)$/.exec(data.line);
      if (stage) stages.push(`${stage[1]}/${stage[2]}`);
      if (data.line.startsWith('uploading ')) at.uploading ??= now;
      if (data.line.startsWith('uploaded ')) at.uploaded ??= now;
    }
    return false;
  });
  const ms = performance.now() - started;
  if (!at.COMPLETED) throw new Error(`compose ${which} did not complete:\n${logs.slice(-40).join('\n')}`);
  const queued = at.QUEUED ?? 0;
  const building = at.BUILDING ?? queued;
  const uploading = at.uploading ?? building;
  const uploaded = at.uploaded ?? uploading;
  return {
    ms,
    plan: queued,
    queue: building - queued,
    build: uploading - building,
    upload: uploaded - uploading,
    end: ms - uploaded,
    stages,
  };
}

try {
  for (const [k, toml] of Object.entries(blueprints)) {
    const pushed = await call(tcp, 'POST', '/api/v0/blueprints/new', toml, { 'content-type': 'text/x-toml' });
    if (pushed.status !== 200) throw new Error(`pushing ${k}: ${pushed.status} ${pushed.text()}`);
  }
  process.stdout.write(`state in ${root}; tar of blueprints/minimal.toml, ${RUNS} cached runs each\n`);

  const cliCold = await cliCompose('base');
  process.stdout.write(`CLI     empty store (warm-up): ${seconds(cliCold.ms)} s\n`);
  const cliRuns: { ms: number; planMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) cliRuns.push(await cliCompose('base'));
  const cliPlus = await cliCompose('plus');

  const serviceCold = await serviceCompose('base');
  process.stdout.write(`service empty store (warm-up): ${seconds(serviceCold.ms)} s\n`);
  const serviceRuns: ServicePhases[] = [];
  for (let i = 0; i < RUNS; i++) serviceRuns.push(await serviceCompose('base'));
  const servicePlus = await serviceCompose('plus');

  const cliCached = median(cliRuns.map((r) => r.ms));
  const serviceCached = median(serviceRuns.map((r) => r.ms));
  const row = (label: string, cli: number, svc: number) =>
    `${label.padEnd(26)}${`${seconds(cli)} s`.padStart(10)}${`${seconds(svc)} s`.padStart(10)}${`${(svc / cli).toFixed(2)}x`.padStart(9)}\n`;
  process.stdout.write(
    `\n${''.padEnd(26)}${'CLI'.padStart(10)}${'service'.padStart(10)}${'ratio'.padStart(9)}\n`,
  );
  process.stdout.write(row('cached compose (median)', cliCached, serviceCached));
  process.stdout.write(row(`one package added (${EXTRA})`, cliPlus.ms, servicePlus.ms));
  process.stdout.write(
    row('  the package, over cached', cliPlus.ms - cliCached, servicePlus.ms - serviceCached),
  );
  process.stdout.write(
    `\nCLI cached runs: ${cliRuns.map((r) => `${seconds(r.ms)} s (planned at ${seconds(r.planMs)} s)`).join(', ')}\n`,
  );
  process.stdout.write('service phases, s: plan (apt), queue, build, upload, end\n');
  for (const [label, r] of [
    ...serviceRuns.map((r, i) => [`cached ${i + 1}`, r] as const),
    ['one package added', servicePlus] as const,
  ]) {
    const phases = [r.plan, r.queue, r.build, r.upload, r.end].map(seconds).join(' / ');
    process.stdout.write(
      `  ${label.padEnd(18)} ${seconds(r.ms)} s = ${phases}; stages run: ${r.stages.join(', ') || 'none'}\n`,
    );
  }
  const packageStage = serviceRuns
    .flatMap((r) => r.stages)
    .filter((s) => /org\.osbuild\.(debootstrap|apt)$/.test(s));
  if (packageStage.length > 0)
    process.stdout.write(`NOTE: cached service composes ran package stages: ${packageStage.join(', ')}\n`);
  process.stdout.write(
    `\ngoal: service within 1.5x of the CLI's cached compose: ${serviceCached <= 1.5 * cliCached ? 'met' : 'NOT met'}\n`,
  );
} finally {
  await service.close();
  if (!kept) rmSync(root, { recursive: true, force: true });
}
