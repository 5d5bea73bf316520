/**
 * How fast manifests are inspected, on the OSBuild compatibility corpus (`../shared/compat/osbuild-ids`):
 *  1. in-process: parse + validate + load + describe + dump of every corpus manifest, over rounds;
 *  2. `forge inspect` spawned on a few corpus manifests, start-up included;
 *  3. the same with real OSBuild (`python3 -m osbuild --inspect`) when OSBUILD_SRC names a checkout of
 *     its source (used as PYTHONPATH and --libdir), for comparison; skipped with a note otherwise.
 * Environment: ROUNDS (default 5) and SPAWNS (default 8) scale the runs; the whole takes about a minute.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  describeManifest,
  loadManifest,
  parseManifestText,
  pyDumps,
  validateManifest,
} from '@debian-forge/manifest';

const ROOT = resolve(import.meta.dirname, '..');
const CORPUS = resolve(ROOT, '../shared/compat/osbuild-ids');
const FORGE = join(ROOT, 'node_modules/.bin/forge');
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SPAWNS = Number(process.env.SPAWNS ?? 8);
const HOST_RUNNER = 'org.osbuild.debian';

const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.manifest.json.gz'))
  .sort();
const manifests = files.map((f) => ({ name: f, data: gunzipSync(readFileSync(join(CORPUS, f))) }));
const totalBytes = manifests.reduce((n, m) => n + m.data.byteLength, 0);

function inspect(data: Uint8Array): string {
  const desc = parseManifestText(data);
  const result = validateManifest(desc);
  if (!result.valid) throw new Error(`invalid: ${result.errors[0]?.message}`);
  return pyDumps(describeManifest(loadManifest(desc), { hostRunner: HOST_RUNNER }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rate = (count: number, ms: number) => `${((count * 1000) / ms).toFixed(1)} manifests/s`;

function inProcess(): void {
  const rounds: number[] = [];
  let outBytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    outBytes = 0;
    for (const m of manifests) outBytes += inspect(m.data).length;
    rounds.push(performance.now() - start);
  }
  const mb = (totalBytes / 1e6).toFixed(1);
  console.log(
    `in-process parse+validate+load+describe+dump: ${manifests.length} manifests (${mb} MB in, ${(outBytes / 1e6).toFixed(1)} MB out)`,
  );
  console.log(`  rounds (ms): ${rounds.map((ms) => ms.toFixed(0)).join(', ')}`);
  console.log(
    `  first (cold) round: ${rate(manifests.length, rounds[0] as number)}; median round: ${rate(manifests.length, median(rounds))} (${(median(rounds) / manifests.length).toFixed(1)} ms per manifest)`,
  );
}

/** Runs `command args(path)` SPAWNS times, over `paths` in turn; prints the rate, start-up included. */
function spawned(
  label: string,
  paths: string[],
  command: string,
  args: (path: string) => string[],
  env = process.env,
): void {
  const start = performance.now();
  for (let i = 0; i < SPAWNS; i++) {
    const path = paths[i % paths.length] as string;
    const r = spawnSync(command, args(path), { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${label} failed on ${path}: ${r.stderr || r.error}`);
  }
  const ms = performance.now() - start;
  console.log(
    `${label}: ${SPAWNS} runs over ${paths.length} manifests in ${(ms / 1000).toFixed(1)} s: ${rate(SPAWNS, ms)} (${(ms / SPAWNS).toFixed(0)} ms per run)`,
  );
}

inProcess();

// A few manifests of spread sizes, written out for the spawned runs.
const dir = mkdtempSync(join(tmpdir(), 'forge-bench-'));
try {
  const bySize = [...manifests].sort((a, b) => a.data.byteLength - b.data.byteLength);
  const picks = [0, 0.33, 0.66, 1].map(
    (q) => bySize[Math.round(q * (bySize.length - 1))] as (typeof bySize)[number],
  );
  const paths = picks.map((m) => {
    const path = join(dir, m.name.replace(/\.gz$/, ''));
    writeFileSync(path, m.data);
    return path;
  });
  console.log(
    `spawned runs use: ${picks.map((m) => `${m.name.replace('.manifest.json.gz', '')} (${(m.data.byteLength / 1e3).toFixed(0)} kB)`).join(', ')}`,
  );

  spawned('forge inspect (spawned)', paths, FORGE, (p) => ['inspect', p]);

  const src = process.env.OSBUILD_SRC;
  if (!src || !statSync(join(src, 'osbuild'), { throwIfNoEntry: false })?.isDirectory()) {
    console.log(
      'osbuild --inspect: skipped (set OSBUILD_SRC to a checkout of the OSBuild source to compare)',
    );
  } else {
    const store = join(dir, 'store');
    const env = { ...process.env, PYTHONPATH: src };
    spawned('forge inspect --libdir OSBUILD_SRC (spawned)', paths, FORGE, (p) => [
      'inspect',
      '--libdir',
      src,
      p,
    ]);
    const osbuild = (p: string) => ['-m', 'osbuild', '--libdir', src, '--store', store, '--inspect', p];
    spawned('osbuild --inspect (spawned)', paths, 'python3', osbuild, env);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
