/**
 * `forge compose` of a minbase tar against `mmdebstrap --variant=minbase`, for the same suite, in one
 * run (wall clock of each whole command, as a user waits for it):
 *
 *   forge (a blueprint with no packages and no customizations, image type tar)
 *     cold      empty state dir and store: apt update, depsolve, download, build (the build root
 *               first: the manifest's `build` pipeline of the suite's pinned tools);
 *     cold --host-buildroot   the same with the host's tools (no build pipeline), what every
 *               compose was before build roots;
 *     warm      a new store holding only the `sources/` (the .deb files) of a previous store, the
 *               apt state dir kept: depsolve and build, no downloads;
 *     warm --host-buildroot   the same with the host's tools;
 *     build root stored       warm, with the build root's tree in the store too (copied from the
 *               cold store): what a compose pays once its distro's build root is built;
 *     cached    the same compose again on that store: the os tree comes from the store;
 *     add-one   the blueprint plus one small package (`less`) on a copy of the cached store;
 *   mmdebstrap --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr SUITE out.tar MIRRORS
 *     cold      with --skip=essential/unlink and a sync-out customize hook that fills the cache
 *               (under a second);
 *     warm      the package cache synced in (`--setup-hook 'sync-in CACHE /var/cache/apt/archives/'`,
 *               ../shared/docs/DEBIAN.md section 3); mmdebstrap has no tree cache, so this row is
 *               also its "cached" figure;
 *     add-one   warm plus --include=less;
 *     warm +systemd-sysv   warm with what the tar image type adds to minbase, so that it installs
 *               the same packages as forge's tar (the package lists of the tars are compared).
 *
 * The cost of the build pipeline is the forge rows against their --host-buildroot ones (the ratios
 * are printed beside forge / mmdebstrap).
 *
 * The mirrors are the host's apt sources, as `forge compose` reads them (`debianRepositories`), so
 * both tools fetch from the same place; they are never printed. forge and mmdebstrap runs are
 * interleaved, so that a change of load on this shared machine falls on both, and each starts after
 * a `sync`, so that none pays for the writes of the one before (or of the set-up's store copies). Each forge row also
 * gets a breakdown of where its time goes, from the arrival time of the LogMonitor's lines (plan,
 * sources, each stage, the engine's work between stages: checkpoint commits, restores, export), and
 * each mmdebstrap row one from its `I:` lines.
 *
 *   node --import tsx bench/compose-vs-mmdebstrap.ts [--suite bookworm|trixie] [--reps N]
 *     [--cold-reps N] [--cold-only] [--baseline DIR]
 *   (npm run bench:compose)
 *
 * Each run is in a cpuacct cgroup of its own (where cgroup v1 has one to make), so its CPU time
 * (user + system of every process it starts, sandboxes included) is printed beside its wall clock.
 * --cold-only stops after the cold runs; --baseline DIR (another checkout of forge with its
 * node_modules) adds a cold compose of that forge after each cold one, for a before/after in one run.
 *
 * --reps (default 2) is the number of warm and add-one runs; cold runs are 2 (--cold-reps), cached runs 3. The
 * run takes 20 minutes on a quiet 2-CPU machine; on a busy one, repetitions after the first of each
 * kind are left out (and named) when they would end the run after --budget minutes (default 25).
 * Needs root, bubblewrap and mmdebstrap; prints why and exits 0 otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { debianRepositories, depsolveLayers, loadIndex, openRoot } from '@debian-forge/apt';
import { DISTROS } from '@debian-forge/composer';
import { mirrorLines } from './mirrors.ts';

const REPO = resolve(import.meta.dirname, '..');
const FORGE = join(REPO, 'apps/cli/bin/forge.js');
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';
const EXTRA_PACKAGE = 'less';
/** What the tar image type installs beyond minbase (`packages/composer/src/image-types.ts`). */
const TAR_TYPE_PACKAGES = ['systemd-sysv'];
const SAME_SET = `warm +${TAR_TYPE_PACKAGES.join(',')}`;
const HOST = '--host-buildroot';
const COLD_HOST = `cold ${HOST}`;
const WARM_HOST = `warm ${HOST}`;
const STORED_ROOT = 'build root stored';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const SUITE = flag('--suite') ?? 'bookworm';
const REPS = Math.max(1, Number(flag('--reps') ?? process.env.REPS ?? 2) || 2);
const COLD_REPS = Math.max(1, Number(flag('--cold-reps') ?? 2) || 2);
/**
 * Another checkout of forge (with its own node_modules) whose cold compose runs after each cold
 * one of this checkout, as a before/after of a change in one run.
 */
const BASELINE = flag('--baseline');
const BASELINE_ROW = 'cold (--baseline)';
/** Only the cold runs (a quick comparison while working on the cold path). */
const COLD_ONLY = process.argv.includes('--cold-only');
const CACHED_REPS = Math.max(3, REPS);
/** Repetitions after the first of each kind are left out when they would end the run after this. */
const BUDGET = Math.max(1, Number(flag('--budget') ?? 25) || 25) * 60;
const began = process.hrtime.bigint();
const elapsed = () => Number(process.hrtime.bigint() - began) / 1e9;

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (forge builds in bubblewrap, mmdebstrap in root mode)';
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'needs bubblewrap (bwrap)';
  if (spawnSync('mmdebstrap', ['--version']).status !== 0) return 'needs mmdebstrap';
  if (!existsSync(MERGED_USR_HOOKS)) return `needs mmdebstrap's hook directory ${MERGED_USR_HOOKS}`;
  if (!existsSync(join(REPO, 'apps/cli/dist'))) return 'no forge bundle (run bash scripts/setup.sh)';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Running with a timestamp on every output line

interface Line {
  /** Seconds since the command started. */
  t: number;
  text: string;
}

interface Run {
  seconds: number;
  /** CPU seconds (user + system) of the whole process tree, bubblewrap's sandboxes included. */
  cpu?: number;
  lines: Line[];
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';
let cgroups = 0;

/**
 * A new cpuacct cgroup (cgroup v1) to run one command in, so that the CPU time of every process it
 * starts is counted, or undefined where there is none to make.
 */
function cpuGroup(): string | undefined {
  const dir = join(CPUACCT, `forge-bench-${process.pid}-${++cgroups}`);
  try {
    mkdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a cpuacct cgroup has counted; removes it. */
function cpuSeconds(dir: string): number {
  const stat = readFileSync(join(dir, 'cpuacct.stat'), 'utf8');
  const ticks = [...stat.matchAll(/^(?:user|system) (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  try {
    rmdirSync(dir);
  } catch {
    // a process still in it (never, after the command has exited): left for the next boot
  }
  return ticks / 100;
}

let interrupted = false;

/**
 * Runs argv, keeping every line of stdout and stderr with the time it arrived, in a cgroup of its
 * own that counts its CPU time (the CPU time of what runs in bubblewrap's PID namespace is not
 * counted in its parents' rusage).
 */
function run(argv: string[], what: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const group = cpuGroup();
  // The command joins the cgroup before it starts, so that all its processes are counted.
  const [cmd, ...args] = (
    group ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', group, ...argv] : argv
  ) as [string, ...string[]];
  const started = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - started) / 1e9;
  const lines: Line[] = [];
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let open = 2;
    const closed = () => {
      if (--open === 0) finish();
    };
    let status: number | null | undefined;
    let signal: NodeJS.Signals | null = null;
    const finish = () => {
      if (status === undefined || open > 0) return;
      const seconds = since();
      const cpu = group ? cpuSeconds(group) : undefined;
      if (status !== 0 || interrupted) {
        const tail = lines
          .slice(-40)
          .map((l) => l.text)
          .join('\n');
        fail(new Error(`${what} failed (${signal ?? `exit ${status}`}):\n${tail}`));
        return;
      }
      done({ seconds, lines, ...(cpu !== undefined ? { cpu } : {}) });
    };
    for (const stream of [child.stdout, child.stderr]) {
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on('line', (text) => lines.push({ t: since(), text }));
      rl.on('close', closed);
    }
    child.on('error', (err) => {
      try {
        if (group) cpuSeconds(group);
      } catch {
        // the cgroup is gone already: nothing to remove
      }
      fail(err);
    });
    child.on('exit', (code, sig) => {
      status = code;
      signal = sig;
      finish();
    });
  });
}

function sh(argv: string[], what: string): string {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Writes back what earlier runs and the set-up copies left in the page cache, so that a run does not
 * pay for the one before it.
 */
function settle(): void {
  spawnSync('sync');
}

/** Removes a directory tree without crossing into another file system. */
function remove(path: string): void {
  if (existsSync(path)) spawnSync('rm', ['-rf', '--one-file-system', path]);
}

/** Seconds `f` takes. */
function timed(f: () => unknown): number {
  const started = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Seconds a plain `cp -a` of `src` takes (the engine's commit, restore and export copy). */
function timeCopy(src: string, dest: string): number {
  return timed(() => sh(['cp', '-a', '--reflink=auto', `${src}/.`, `${dest}/`], `cp -a ${src}`));
}

// ---------------------------------------------------------------------------------------------
// Statistics and what each run produced

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (s: number) => `${s.toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/** The installed packages of a root file system tarball (its dpkg status file). */
function tarPackages(tar: string): string[] {
  const status = sh(['tar', '-xOf', tar, '--wildcards', '*var/lib/dpkg/status'], `reading ${tar}`);
  const names: string[] = [];
  for (const stanza of status.split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (name && /^Status: install ok installed$/m.test(stanza)) names.push(name);
  }
  return names.sort();
}

interface Sample {
  seconds: number;
  cpu?: number;
  load: number;
  segments: Map<string, number>;
  note: string;
}

interface Row {
  tool: 'forge' | 'mmdebstrap';
  name: string;
  samples: Sample[];
  packages?: string[];
  bytes?: number;
}

class Table {
  readonly rows: Row[] = [];
  row(tool: Row['tool'], name: string): Row {
    let r = this.rows.find((x) => x.tool === tool && x.name === name);
    if (!r) {
      r = { tool, name, samples: [] };
      this.rows.push(r);
    }
    return r;
  }
  med(tool: Row['tool'], name: string): number {
    const r = this.rows.find((x) => x.tool === tool && x.name === name);
    return r ? median(r.samples.map((s) => s.seconds)) : Number.NaN;
  }
}

function record(row: Row, r: Run, segments: Map<string, number>, note: string, tar?: string): void {
  row.samples.push({ seconds: r.seconds, cpu: r.cpu, load: loadavg()[0] as number, segments, note });
  if (tar && row.packages === undefined) {
    row.packages = tarPackages(tar);
    row.bytes = statSync(tar).size;
  }
  const load = (loadavg()[0] as number).toFixed(1);
  const cpu = r.cpu === undefined ? '' : `, CPU ${fmt(r.cpu)}`;
  console.log(`  ${row.tool} ${row.name}: ${fmt(r.seconds)}${cpu}  (load ${load}${note ? `; ${note}` : ''})`);
}

// ---------------------------------------------------------------------------------------------
// Where the time goes

/**
 * forge compose's timeline, cut at the LogMonitor's lines: before "Composing" (start-up, apt update,
 * depsolve, manifest), each source, each pipeline's set-up (a restore from the store is a `cp -a`),
 * each stage (header to "Duration"), the engine's work after each stage (a checkpoint commit is a
 * `cp -a`, a `du` and an mtime walk; after the last stage of the last pipeline: the mtime walk, the
 * export's `cp -a` and the store's clean-up), and the exit.
 */
function forgeSegments(r: Run): { segments: Map<string, number>; stages: string[] } {
  const segments = new Map<string, number>();
  const stages: string[] = [];
  let label = 'plan: start-up, apt update, depsolve, manifest';
  let from = 0;
  let pipeline = '';
  let current = '';
  const seen = new Map<string, number>();
  const cut = (t: number, next: string) => {
    segments.set(label, (segments.get(label) ?? 0) + (t - from));
    label = next;
    from = t;
  };
  const lines = r.lines;
  for (let i = 0; i < lines.length; i++) {
    const { t, text } = lines[i] as Line;
    const source = /^Source (\S+)$/.exec(text);
    const pipe = /^Pipeline (\S+): /.exec(text);
    const header = /^(?:\[\d+\/\d+\] )?(org\.osbuild\.[\w.-]+): [0-9a-f]{64} \{/.exec(text);
    if (text.startsWith('Composing ')) cut(t, 'validate, open the store');
    else if (text.startsWith('I: ') && current && label.includes(current) && !label.includes(': after ')) {
      // the mmdebstrap inside org.osbuild.debootstrap says what it does, as the real one below
      const what = text
        .slice(3)
        .replace(/\/run\/osbuild\/tree/g, 'TREE')
        .replace(/success in [\d.]+ seconds/, 'exit');
      cut(t, `${pipeline}: stage ${current} › ${what}`);
    } else if (source) cut(t, `sources: ${source[1]} (fetch or verify)`);
    else if (pipe) {
      pipeline = pipe[1] as string;
      cut(t, `${pipeline}: set-up (a restore from the store is a cp -a)`);
    } else if (header) {
      // The options follow as indented JSON up to a line "}"; apt stages are named by their packages.
      let type = header[1] as string;
      let json = '{';
      for (let j = i + 1; j < lines.length && j < i + 400; j++) {
        json += (lines[j] as Line).text;
        if ((lines[j] as Line).text === '}') break;
      }
      try {
        const pkgs = (JSON.parse(json) as { packages?: string[] }).packages;
        if (pkgs && pkgs.length <= 3) type += ` [${pkgs.join(' ')}]`;
      } catch {
        // not the options block; the type alone names the stage
      }
      const n = (seen.get(type) ?? 0) + 1;
      seen.set(type, n);
      const name = n > 1 ? `${type} #${n}` : type;
      stages.push(name);
      current = name;
      cut(t, `${pipeline}: stage ${name}`);
    } else if (/^⏱ {2}Duration: /.test(text)) {
      cut(t, `${pipeline}: after ${current} (engine: checkpoint commit = cp -a + du; pipeline end)`);
    } else if (text.startsWith('Image: ')) cut(t, 'exit');
  }
  cut(r.seconds, '');
  return { segments, stages };
}

/** mmdebstrap's timeline, cut at its `I:` lines. */
function mmdebstrapSegments(r: Run): Map<string, number> {
  const segments = new Map<string, number>();
  let label = 'start-up';
  let from = 0;
  for (const { t, text } of r.lines) {
    if (!text.startsWith('I: ')) continue;
    segments.set(label, (segments.get(label) ?? 0) + (t - from));
    label = text
      .slice(3)
      .replace(/\/tmp\/mmdebstrap\.\w+/g, 'TMP')
      .replace(/success in [\d.]+ seconds/, 'exit')
      .replace(/\S*\/mm-cache-\d+/g, 'CACHE');
    from = t;
  }
  segments.set(label, (segments.get(label) ?? 0) + (r.seconds - from));
  return segments;
}

function printBreakdown(row: Row): void {
  const names: string[] = [];
  for (const s of row.samples) for (const k of s.segments.keys()) if (!names.includes(k)) names.push(k);
  const total = median(row.samples.map((s) => s.seconds));
  console.log(
    `\n  ${row.tool} ${row.name} (${fmt(total)} median; medians of each part over ${row.samples.length} runs)`,
  );
  let other = 0;
  for (const name of names) {
    const v = median(row.samples.map((s) => s.segments.get(name) ?? 0));
    if (v < 0.15) {
      other += v;
      continue;
    }
    console.log(`    ${v.toFixed(2).padStart(7)} s  ${((100 * v) / total).toFixed(0).padStart(3)}%  ${name}`);
  }
  if (other > 0)
    console.log(
      `    ${other.toFixed(2).padStart(7)} s  ${((100 * other) / total).toFixed(0).padStart(3)}%  (parts under 0.15 s)`,
    );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const reason = why();
  if (reason) {
    console.log(`compose vs mmdebstrap benchmark skipped: ${reason}`);
    return;
  }
  const distro = DISTROS.find((d) => d.suite === SUITE);
  if (!distro) throw new Error(`--suite: one of ${DISTROS.map((d) => d.suite).join(', ')}`);
  const repos = debianRepositories(distro.suite);
  const mirrors = mirrorLines(repos);

  process.on('SIGINT', () => {
    interrupted = true;
  });
  const loadStart = loadavg();
  const head = sh(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], 'git rev-parse').trim();
  const dirty = sh(['git', '-C', REPO, 'status', '--porcelain', '--', 'apps', 'packages'], 'git status')
    .split('\n')
    .filter(Boolean).length;
  console.log(
    `forge compose vs mmdebstrap: ${distro.suite} (${distro.name}) minbase, tar, amd64; ` +
      `${sh(['nproc'], 'nproc').trim()} CPUs; forge at ${head}${dirty ? ` with ${dirty} uncommitted files in apps/ packages/` : ''}`,
  );
  console.log(
    `mirrors: the host's apt sources (${repos.length} repositories: ${repos.map((r) => r.suites.join(' ')).join('; ')}), the same for both`,
  );
  console.log(
    `load average at start: ${loadStart.map((x) => x.toFixed(2)).join(' ')} — this machine is shared: other jobs run during the measurements, so compare the two tools within this run only`,
  );

  const work = mkdtempSync(join(tmpdir(), 'forge-bench-compose-'));
  const table = new Table();
  const forgeStages = new Map<string, string[]>();
  let forgeCount = '';
  let copyProbe = '';
  let planProbe = '';
  const skipped: string[] = [];
  try {
    const blueprint = join(work, 'minbase.toml');
    writeFileSync(blueprint, 'name = "bench-minbase"\nversion = "0.0.1"\n');
    const blueprintPlus = join(work, `minbase-${EXTRA_PACKAGE}.toml`);
    writeFileSync(
      blueprintPlus,
      `name = "bench-minbase"\nversion = "0.0.1"\n\n[[packages]]\nname = "${EXTRA_PACKAGE}"\nversion = "*"\n`,
    );
    // What the kinds after this one need at least (one run each), from the cold runs measured so far.
    const PHASES = ['cold', 'warm', 'cached', 'add-one'] as const;
    const atLeast = (phase: (typeof PHASES)[number]) => {
      const f = table.med('forge', 'cold') || 150;
      const h = table.med('forge', COLD_HOST) || 90;
      const m = table.med('mmdebstrap', 'cold') || 60;
      const need = {
        cold: f + h + m,
        warm: 1.5 * f + h + 2 * m + 10,
        cached: 0.25 * f + 15,
        'add-one': 0.5 * f + m + 10,
      };
      return PHASES.slice(PHASES.indexOf(phase) + 1).reduce((sum, p) => sum + need[p], 0);
    };
    const repeat = async (
      reps: number,
      phase: (typeof PHASES)[number],
      body: (rep: number) => Promise<unknown>,
    ) => {
      let last = 0;
      for (let rep = 1; rep <= reps; rep++) {
        if (rep > 1 && elapsed() + last + atLeast(phase) > BUDGET) {
          console.log(
            `  (runs ${rep}–${reps} left out: they would end the whole run after the budget of ${BUDGET / 60} min; --budget MIN)`,
          );
          skipped.push(`${phase}: ${reps - rep + 1} of ${reps}`);
          return;
        }
        const t = elapsed();
        await body(rep);
        last = elapsed() - t;
      }
    };
    let n = 0;
    const fresh = (tag: string) => {
      const d = join(work, `${tag}-${++n}`);
      mkdirSync(d);
      return d;
    };

    /** The id of the build pipeline of the last cold compose with one, as its log names it. */
    let buildRoot = '';
    const forge = async (
      rowName: string,
      bp: string,
      stateDir: string,
      store: string,
      note = '',
      command = FORGE,
      flags: string[] = [],
    ) => {
      const out = fresh('out');
      settle();
      const r = await run(
        [
          process.execPath,
          command,
          'compose',
          bp,
          '--type',
          'tar',
          '--distro',
          distro.name,
          '--output',
          out,
          '--state-dir',
          stateDir,
          '--store',
          store,
          ...flags,
        ],
        `forge compose (${rowName})`,
      );
      const built = r.lines.map((l) => /^Pipeline build: ([0-9a-f]{64})$/.exec(l.text)?.[1]).find(Boolean);
      if (built && rowName === 'cold') buildRoot = built;
      const { segments, stages } = forgeSegments(r);
      forgeStages.set(rowName, stages);
      const count = r.lines.find((l) => l.text.startsWith('Composing '))?.text;
      if (count && rowName === 'cold') forgeCount = count;
      record(
        table.row('forge', rowName),
        r,
        segments,
        `${stages.length} stages run${note}`,
        join(out, 'root.tar'),
      );
      remove(out);
    };

    const mmdebstrap = async (
      rowName: string,
      cache: { in?: string; out?: string },
      include: string[] = [],
    ) => {
      const out = fresh('mm-out');
      const argv = [
        'mmdebstrap',
        '--variant=minbase',
        `--hook-dir=${MERGED_USR_HOOKS}`,
        '--skip=essential/unlink',
        '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
        ...(cache.in ? [`--setup-hook=sync-in ${cache.in} /var/cache/apt/archives/`] : []),
        ...(cache.out ? [`--customize-hook=sync-out /var/cache/apt/archives ${cache.out}`] : []),
        ...(include.length > 0 ? [`--include=${include.join(',')}`] : []),
        distro.suite,
        join(out, 'out.tar'),
        ...mirrors,
      ];
      settle();
      const r = await run(argv, `mmdebstrap (${rowName})`);
      record(table.row('mmdebstrap', rowName), r, mmdebstrapSegments(r), '', join(out, 'out.tar'));
      remove(out);
    };

    // 1. Cold: forge from empty state and store; mmdebstrap with nothing cached (filling a cache).
    console.log(`\ncold (${COLD_REPS} runs each, interleaved)`);
    let coldState = '';
    let coldStore = '';
    let mmCache = '';
    // The baseline's store is removed at once; the order of the two alternates, so that neither
    // always follows the other (or the removal of a store, which keeps the disk busy for a while).
    const baseline = async () => {
      if (!BASELINE) return;
      const state = fresh('state');
      const store = fresh('store');
      await forge(BASELINE_ROW, blueprint, state, store, '', join(BASELINE, 'apps/cli/bin/forge.js'));
      remove(state);
      remove(store);
    };
    // The same with the host's tools, in a state dir and store of its own, removed at once.
    const coldHost = async () => {
      const state = fresh('state');
      const store = fresh('store');
      await forge(COLD_HOST, blueprint, state, store, '', FORGE, [HOST]);
      remove(state);
      remove(store);
    };
    await repeat(COLD_REPS, 'cold', async (rep) => {
      remove(coldState);
      remove(coldStore);
      coldState = fresh('state');
      coldStore = fresh('store');
      if (rep % 2 === 0) await baseline();
      if (rep % 2 === 0) await coldHost();
      await forge('cold', blueprint, coldState, coldStore);
      if (rep % 2 === 1) await coldHost();
      if (rep % 2 === 1) await baseline();
      remove(mmCache);
      mmCache = fresh('mm-cache');
      await mmdebstrap('cold', { out: mmCache });
    });
    const sources = join(coldStore, 'sources');
    const debs = readdirSync(mmCache).filter((f) => f.endsWith('.deb')).length;
    console.log(
      `  kept: forge's apt state and ${mb(Number(sh(['du', '-sb', sources], 'du').split('\t')[0]))} of sources; ` +
        `mmdebstrap's cache of ${debs} .deb files`,
    );

    if (!COLD_ONLY) {
      // 2. Warm source cache: forge on a new store with only the last cold store's sources/ (with
      // the build root's tree too for STORED_ROOT).
      console.log(`\nwarm source cache (${REPS} runs each)`);
      if (!buildRoot) throw new Error('the cold compose named no build pipeline');
      const storeWith = (objects: string[]) => {
        const store = fresh('store');
        sh(['cp', '-a', sources, join(store, 'sources')], 'copying sources');
        mkdirSync(join(store, 'objects'));
        for (const id of objects) {
          sh(
            ['cp', '-a', join(coldStore, 'objects', id), join(store, 'objects', id)],
            'copying the build root',
          );
        }
        return store;
      };
      let warmStore = '';
      await repeat(REPS, 'warm', async () => {
        remove(warmStore);
        warmStore = storeWith([]);
        await forge('warm', blueprint, coldState, warmStore);
        const hostStore = storeWith([]);
        await forge(WARM_HOST, blueprint, coldState, hostStore, '', FORGE, [HOST]);
        remove(hostStore);
        const rootStore = storeWith([buildRoot]);
        await forge(STORED_ROOT, blueprint, coldState, rootStore);
        remove(rootStore);
        await mmdebstrap('warm', { in: mmCache });
        // forge's tar has what the tar image type adds (systemd-sysv): the same work for mmdebstrap.
        await mmdebstrap(SAME_SET, { in: mmCache }, TAR_TYPE_PACKAGES);
      });
      remove(coldStore);

      // 3. Fully cached: the same compose on the last warm store.
      console.log(`\nfully cached (${CACHED_REPS} runs; mmdebstrap has no tree cache: its row is "warm")`);
      await repeat(CACHED_REPS, 'cached', () => forge('cached', blueprint, coldState, warmStore));

      // How long the engine's copy takes for this tree, as a reference for the breakdowns.
      const objects = join(warmStore, 'objects');
      let biggest = { dir: '', bytes: 0 };
      for (const id of readdirSync(objects)) {
        const bytes = Number(sh(['du', '-sb', join(objects, id, 'data')], 'du').split('\t')[0]);
        if (bytes > biggest.bytes) biggest = { dir: join(objects, id, 'data'), bytes };
      }
      if (biggest.dir) {
        const dest = fresh('copy-probe');
        const seconds = timeCopy(biggest.dir, dest);
        const files = sh(['find', dest], 'find').split('\n').length - 1;
        const du = timed(() => sh(['du', '-s', '--block-size=1', dest], 'du'));
        const rm = timed(() => remove(dest));
        const fs = sh(['findmnt', '-no', 'FSTYPE,OPTIONS', '-T', work], 'findmnt').trim();
        copyProbe =
          `the engine's copy, measured alone on the largest stored object (${mb(biggest.bytes)}, ${files} files; ${fs}):\n` +
          `    cp -a --reflink=auto ${fmt(seconds)}, du -s ${fmt(du)}, rm -rf ${fmt(rm)}`;
      }

      // What "plan" holds, redone in this process on a new apt root as a cold compose does.
      {
        const t0 = process.hrtime.bigint();
        const lap = () => Number(process.hrtime.bigint() - t0) / 1e9;
        const root = await openRoot({ stateDir: fresh('state'), repositories: repos, arch: 'amd64' });
        await root.update();
        const update = lap();
        await loadIndex(root, { update: false });
        const index = lap();
        const layers = await depsolveLayers(root, [['usr-is-merged'], TAR_TYPE_PACKAGES, []], {
          base: 'minbase',
          update: false,
        });
        planProbe =
          `forge's plan, redone in-process on a new apt root: apt-get update (and gencaches) ${fmt(update)}, ` +
          `parse of the Packages index ${fmt(index - update)}, depsolve of ${layers.length} layers ` +
          `(${layers.map((l) => l.length).join(' + ')} packages; one apt-get run each) ${fmt(lap() - index)}`;
      }

      // 4. Add one package: forge on a copy of the cached store each time; mmdebstrap warm + include.
      console.log(`\nadd one package (${EXTRA_PACKAGE}; ${REPS} runs each)`);
      const pristine = join(work, 'store-cached');
      sh(['cp', '-a', warmStore, pristine], 'copying the cached store');
      remove(warmStore);
      await repeat(REPS, 'add-one', async (rep) => {
        const store = join(work, `store-add-${rep}`);
        sh(['cp', '-a', pristine, store], 'copying the cached store');
        await forge('add-one', blueprintPlus, coldState, store);
        remove(store);
        await mmdebstrap('add-one', { in: mmCache }, [EXTRA_PACKAGE]);
      });
      remove(pristine);
    }
  } finally {
    remove(work);
  }

  // ---------------------------------------------------------------------------------------------
  // Report

  const loadEnd = loadavg();
  if (skipped.length > 0) console.log(`\nleft out for the time budget: ${skipped.join('; ')}`);
  console.log(`\n${'='.repeat(100)}`);
  console.log(
    'wall clock per run (s)            median     min  (n)  packages   output   load (1 min) during   CPU median',
  );
  for (const row of table.rows) {
    const xs = row.samples.map((s) => s.seconds);
    const cpus = row.samples.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]));
    const loads = row.samples.map((s) => s.load);
    console.log(
      `  ${`${row.tool} ${row.name}`.padEnd(30)} ${fmt(median(xs)).padStart(7)} ${fmt(Math.min(...xs)).padStart(7)}  (${xs.length})` +
        `  ${String(row.packages?.length ?? '?').padStart(8)} ${mb(row.bytes ?? Number.NaN).padStart(8)}   ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`.padEnd(
          84,
        ) +
        `${cpus.length > 0 ? fmt(median(cpus)) : '-'}`,
    );
  }
  /** The median of forge's row `f` over that of `of`'s row `m`. */
  const ratio = (label: string, f: string, m: string, of: Row['tool'] = 'mmdebstrap') => {
    const r = table.med('forge', f) / table.med(of, m);
    if (!Number.isNaN(r)) console.log(`  ${label.padEnd(56)} ${r.toFixed(2).padStart(5)}`);
  };
  console.log('\nforge / mmdebstrap (medians; below 1 means forge is faster)');
  ratio('cold', 'cold', 'cold');
  if (BASELINE) ratio('cold of --baseline', BASELINE_ROW, 'cold');
  ratio('warm (source cache / package cache)', 'warm', 'warm');
  ratio('cached (mmdebstrap has no tree cache: against its warm)', 'cached', 'warm');
  ratio(`add-one (+${EXTRA_PACKAGE}; mmdebstrap warm + --include)`, 'add-one', 'add-one');
  ratio(`warm, the same packages (mmdebstrap ${SAME_SET})`, 'warm', SAME_SET);
  ratio(`cold ${HOST}`, COLD_HOST, 'cold');
  console.log(`  targets (issue 4): cold at most 1.0×, cached far less`);
  console.log(`\nthe build pipeline's cost: forge / forge ${HOST} (medians)`);
  ratio('cold', 'cold', COLD_HOST, 'forge');
  ratio('warm (source cache)', 'warm', WARM_HOST, 'forge');
  ratio(`${STORED_ROOT} (against warm ${HOST})`, STORED_ROOT, WARM_HOST, 'forge');

  const pkgs = (tool: Row['tool'], name: string) =>
    table.rows.find((r) => r.tool === tool && r.name === name)?.packages;
  const compare = (f: string[] | undefined, m: string[] | undefined, what: string) => {
    if (!f || !m) return;
    const onlyF = f.filter((p) => !m.includes(p));
    const onlyM = m.filter((p) => !f.includes(p));
    console.log(
      `  forge ${f.length} against mmdebstrap ${what} ${m.length}: only in forge's: ${onlyF.join(' ') || '-'}; only in mmdebstrap's: ${onlyM.join(' ') || '-'}`,
    );
  };
  console.log(`\npackages installed in the tars${forgeCount ? ` (forge said "${forgeCount}")` : ''}`);
  compare(pkgs('forge', 'cold'), pkgs('mmdebstrap', 'cold'), 'minbase');
  compare(pkgs('forge', 'warm'), pkgs('mmdebstrap', SAME_SET), SAME_SET);

  console.log('\nwhere the time goes');
  for (const row of table.rows) printBreakdown(row);
  for (const [name, stages] of forgeStages) console.log(`  forge ${name} ran: ${stages.join(', ') || '-'}`);
  if (planProbe) console.log(`  ${planProbe}`);
  if (copyProbe) console.log(`  ${copyProbe}`);
  console.log(
    `\nload average at end: ${loadEnd.map((x) => x.toFixed(2)).join(' ')} (at start: ${loadStart.map((x) => x.toFixed(2)).join(' ')}; the machine is shared)`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
