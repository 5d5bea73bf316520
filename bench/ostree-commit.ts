/**
 * The commit of a Debian atomic os tree: a full commit against the re-commit of an unchanged tree.
 *
 * The os tree is the `os` pipeline of `forge manifest blueprints/minimal.toml --type
 * debian-atomic-commit` (the packages of the atomic types, reshaped by org.osbuild.ostree.preptree),
 * built with `forge build --export os` on a state directory that is kept between runs
 * (--state-dir, default /var/tmp/forge-bench-ostree: the first run builds it, about 4 minutes).
 * Then, timed, on that tree:
 *
 *   full        org.osbuild.ostree.commit into a new archive repository (a bare-user working
 *               repository, then every object compressed into the archive);
 *   unchanged   the stage again, into that repository, the tree unchanged: the working commit
 *               finds the tree equal to the head of the ref (`--skip-if-unchanged`), nothing is
 *               compressed and the ref stays;
 *   direct      for comparison, what the stage did before: `ostree commit --skip-if-unchanged`
 *               straight into the archive repository, the tree unchanged (it compresses every
 *               file while checksumming it, only to find it has it).
 *
 * A compose of an unchanged blueprint commits nothing at all: the ostree-commit pipeline has the
 * same id and comes from the store (see the checkpoints of `forge compose`).
 *
 *   node --import tsx bench/ostree-commit.ts [--state-dir DIR] [--reps N]   (npm run bench:ostree)
 *
 * Needs root, bubblewrap and ostree; prints why and exits 0 otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main as commitStage } from '@debian-forge/stages/stages/org.osbuild.ostree.commit';
import { main as initStage } from '@debian-forge/stages/stages/org.osbuild.ostree.init';

const REPO = resolve(import.meta.dirname, '..');
const FORGE = join(REPO, 'apps/cli/bin/forge.js');
const REF = 'debian/12/x86_64/atomic';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const STATE = resolve(flag('--state-dir') ?? '/var/tmp/forge-bench-ostree');
const REPS = Math.max(1, Number(flag('--reps') ?? 2) || 2);

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (forge build)';
  for (const program of ['bwrap', 'ostree']) {
    if (spawnSync(program, ['--version']).status !== 0) return `needs ${program}`;
  }
  return undefined;
}

function run(argv: string[]): void {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0)
    throw new Error(`${argv.join(' ')} failed:\n${(r.stdout ?? '').slice(-3000)}${r.stderr}`);
}

/** The os tree of a debian-atomic-commit compose, built (or found) in the state directory. */
function osTree(): string {
  const out = join(STATE, 'os-export');
  const tree = join(out, 'os');
  if (existsSync(join(tree, 'usr/etc'))) return tree;
  mkdirSync(STATE, { recursive: true });
  const manifest = join(STATE, 'manifest.json');
  console.log(`building the os tree in ${STATE} (once; about 4 minutes)`);
  const bp = join(REPO, 'blueprints/minimal.toml');
  run([
    process.execPath,
    FORGE,
    'manifest',
    bp,
    '--type',
    'debian-atomic-commit',
    '--state-dir',
    STATE,
    '--out',
    manifest,
  ]);
  rmSync(out, { recursive: true, force: true });
  // biome-ignore format: flags and their values in pairs
  run([
    process.execPath, FORGE, 'build', manifest, '--export', 'os', '--output-directory', out,
    '--store', join(STATE, 'store'), '--checkpoint', 'os', '--cache-max-size', '20 GiB',
  ]);
  return tree;
}

/**
 * Wall clock and CPU seconds of the child processes (ostree) since `start`: the CPU figure is the
 * one that stays put on a busy shared machine (children's user + system time, /proc/self/stat).
 */
interface Mark {
  wall: bigint;
  cpu: number;
}
function childCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime), counted from field 3 here; clock ticks of 1/100 s.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
const mark = (): Mark => ({ wall: process.hrtime.bigint(), cpu: childCpu() });
const since = (m: Mark) => ({
  wall: Number(process.hrtime.bigint() - m.wall) / 1e9,
  cpu: childCpu() - m.cpu,
});
type Span = ReturnType<typeof since>;
const show = (s: Span) => `${s.wall.toFixed(1)} s (CPU ${s.cpu.toFixed(1)} s)`;

function duSize(path: string): string {
  const r = spawnSync('du', ['-sh', '--apparent-size', path], { encoding: 'utf8' });
  return r.stdout.split('\t')[0] ?? '?';
}

function main(): void {
  const why = unavailable();
  if (why) {
    console.log(`bench ostree-commit skipped: ${why}`);
    return;
  }
  const tree = osTree();
  console.log(`os tree: ${duSize(tree)} (${tree})`);
  const rows: { full: Span; unchanged: Span; direct: Span }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const dir = mkdtempSync(join(tmpdir(), 'forge-bench-ostree-'));
    try {
      const out = join(dir, 'tree');
      mkdirSync(out);
      const args = (options: Record<string, unknown>) => ({
        tree: out,
        paths: { devices: '/dev', inputs: join(dir, 'inputs'), mounts: join(dir, 'mounts') },
        options,
        inputs: { tree: { path: tree } },
        devices: {},
        mounts: {},
        meta: { id: 'ab'.repeat(32), 'source-epoch': 1_700_000_000 },
      });
      initStage(args({ mode: 'archive', path: '/repo' }));
      spawnSync('sync');
      let start = mark();
      const first = commitStage(args({ ref: REF, os_version: '12' })).compose;
      const full = since(start);
      spawnSync('sync');
      start = mark();
      const again = commitStage(args({ ref: REF, os_version: '12' })).compose;
      const unchanged = since(start);
      if (again['ostree-commit'] !== first['ostree-commit'])
        throw new Error('the unchanged tree made a new commit');
      spawnSync('sync');
      start = mark();
      // biome-ignore format: one ostree option per line
      run([
        'ostree', 'commit', `--repo=${join(out, 'repo')}`, `--branch=${REF}`, '--skip-if-unchanged',
        `--timestamp=@${1_700_000_000}`, `--tree=dir=${tree}`,
      ]);
      const direct = since(start);
      if (rep === 0) {
        console.log(
          `commit ${String(first['ostree-commit']).slice(0, 12)}…: ${first['ostree-n-content-written']} files written, repository ${duSize(join(out, 'repo'))}`,
        );
      }
      rows.push({ full, unchanged, direct });
      console.log(
        `run ${rep + 1}: full ${show(full)}, unchanged ${show(unchanged)}, direct unchanged ${show(direct)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const best = (k: 'full' | 'unchanged' | 'direct', m: 'wall' | 'cpu') =>
    Math.min(...rows.map((r) => r[k][m]));
  const line = (label: string, k: 'full' | 'unchanged' | 'direct') =>
    console.log(
      `  ${label.padEnd(46)}${best(k, 'wall').toFixed(1).padStart(7)}${best(k, 'cpu').toFixed(1).padStart(7)}`,
    );
  console.log(`\nbest of ${rows.length} (seconds)${' '.repeat(34)}wall    CPU`);
  line('full commit (new archive repository)', 'full');
  line('unchanged tree, org.osbuild.ostree.commit', 'unchanged');
  line('unchanged tree, ostree commit into archive', 'direct');
  for (const m of ['wall', 'cpu'] as const) {
    console.log(
      `  ${m}: unchanged / full ${(best('unchanged', m) / best('full', m)).toFixed(2)}, direct unchanged / full ${(best('direct', m) / best('full', m)).toFixed(2)}`,
    );
  }
  console.log(
    `  load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

main();
