/**
 * The build engine's own overhead, measured on the real `forge build` (wall clock of the whole
 * command, as a user waits for it):
 *
 *  - an empty manifest (the fixed cost of a run: start-up, validation, store and records);
 *  - 20 `org.osbuild.noop` stages, and a mkdir/copy/tar manifest, each
 *      cold             empty store, nothing cached (OSBuild's default --cache-max-size 0),
 *      cold + commit    empty store, --checkpoint '*' --cache-max-size unlimited,
 *      cached           the same again on that store: nothing to build, only the export;
 *  - per-stage overhead = (noop cold − empty) / 20.
 *
 * If OSBuild itself can run here (its source from `--osbuild PATH` or $FORGE_OSBUILD_SOURCE, the
 * variable the tests read: a checkout or an unpacked release tarball, used in place, or a bare git
 * directory, `git archive`d into a temporary directory and never kept; python3 with jsonschema),
 * the same empty and noop manifests are timed with `python3 -m osbuild --libdir <source>` in the
 * same run, and the ratios printed. There is no default: without one the output says how to get it.
 *
 *   node --import tsx bench/engine-overhead.ts [--reps N] [--osbuild PATH]     (npm run bench:engine)
 *
 * Needs root and bubblewrap, like every build; prints why and exits 0 otherwise.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const FORGE = join(REPO, 'apps/cli/bin/forge.js');
const LIBDIR = join(REPO, 'packages/stages/libdir');
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** OSBuild's source to compare with (see above); without it the peer is skipped. */
const OSBUILD_SOURCE = flag('--osbuild') ?? process.env.FORGE_OSBUILD_SOURCE;

const REPS = Math.max(1, Number(flag('--reps') ?? process.env.REPS ?? 5) || 5);

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (bwrap with capabilities)';
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'needs bubblewrap (bwrap)';
  if (!existsSync(join(LIBDIR, 'stages/org.osbuild.noop')))
    return `no built libdir at ${LIBDIR} (npm run build -w @debian-forge/stages)`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Manifests

const EMPTY = { version: '2', pipelines: [] };

const NOOP20 = {
  version: '2',
  pipelines: [
    {
      name: 'noop',
      stages: Array.from({ length: 20 }, (_, i) => ({ type: 'org.osbuild.noop', options: { n: i } })),
    },
  ],
};

function mkdirCopyTar() {
  const small = Buffer.from('a small file\n');
  const big = Buffer.alloc(64 * 1024, 'forge ');
  const sum = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        stages: [
          {
            type: 'org.osbuild.mkdir',
            options: {
              paths: [
                { path: '/srv/data/sub', parents: true },
                { path: '/etc/forge', parents: true },
              ],
            },
          },
          {
            type: 'org.osbuild.copy',
            inputs: {
              f: {
                type: 'org.osbuild.files',
                origin: 'org.osbuild.source',
                references: [sum(small), sum(big)],
              },
            },
            options: {
              paths: [
                { from: `input://f/${sum(small)}`, to: 'tree:///etc/forge/small' },
                { from: `input://f/${sum(big)}`, to: 'tree:///srv/data/sub/big' },
              ],
            },
          },
        ],
      },
      {
        name: 'tar',
        stages: [
          {
            type: 'org.osbuild.tar',
            options: { filename: 'tree.tar' },
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:tree'] },
            },
          },
        ],
      },
    ],
    sources: {
      'org.osbuild.inline': {
        items: {
          [sum(small)]: { encoding: 'base64', data: small.toString('base64') },
          [sum(big)]: { encoding: 'base64', data: big.toString('base64') },
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running and timing

interface Timed {
  seconds: number;
  stdout: string;
}

function timed(argv: string[], what: string): Timed {
  const [cmd, ...args] = argv as [string, ...string[]];
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: REPO });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) {
    throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { seconds, stdout: r.stdout };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const min = (xs: number[]) => Math.min(...xs);
const fmt = (s: number) => `${s.toFixed(2)} s`;
const progress = (rep: number) => {
  if (process.stdout.isTTY) process.stdout.write(`  repetition ${rep}/${REPS}\r`);
};
const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;

class Samples {
  readonly rows = new Map<string, number[]>();
  add(name: string, seconds: number) {
    const row = this.rows.get(name) ?? [];
    row.push(seconds);
    this.rows.set(name, row);
  }
  med(name: string): number {
    return median(this.rows.get(name) ?? [Number.NaN]);
  }
  min(name: string): number {
    return min(this.rows.get(name) ?? [Number.NaN]);
  }
  print(title: string) {
    console.log(`\n${title}`);
    const width = Math.max(...[...this.rows.keys()].map((k) => k.length));
    console.log(`  ${'manifest'.padEnd(width)}   median      min   (n)`);
    for (const [name, xs] of this.rows) {
      console.log(
        `  ${name.padEnd(width)}  ${fmt(median(xs)).padStart(7)}  ${fmt(min(xs)).padStart(7)}   (${xs.length})`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// OSBuild

interface OsbuildSetup {
  run(args: string[], what: string): Timed;
  describe: string;
}

const HOW_TO_GET_OSBUILD =
  'give --osbuild PATH or FORGE_OSBUILD_SOURCE=PATH, PATH an OSBuild checkout (git clone of the osbuild ' +
  'repository), an unpacked release tarball of it, or a bare git directory of it';

/** OSBuild's source as a directory to run it from, and what to call it; or why there is none. */
function osbuildSource(work: string): { src: string; describe: string } | string {
  if (!OSBUILD_SOURCE) return `no OSBuild source: ${HOW_TO_GET_OSBUILD}`;
  if (existsSync(join(OSBUILD_SOURCE, 'osbuild/__init__.py')) && existsSync(join(OSBUILD_SOURCE, 'stages'))) {
    const head = spawnSync('git', ['-C', OSBUILD_SOURCE, 'rev-parse', '--short=8', 'HEAD'], {
      encoding: 'utf8',
    });
    return { src: OSBUILD_SOURCE, describe: head.status === 0 ? head.stdout.trim() : OSBUILD_SOURCE };
  }
  const gitDir = OSBUILD_SOURCE;
  if (spawnSync('git', ['--git-dir', gitDir, 'rev-parse', 'HEAD']).status !== 0)
    return `${OSBUILD_SOURCE} is neither OSBuild's source (osbuild/, stages/) nor a git directory: ${HOW_TO_GET_OSBUILD}`;
  const commit = spawnSync('git', ['--git-dir', gitDir, 'rev-parse', '--short=8', 'HEAD'], {
    encoding: 'utf8',
  }).stdout.trim();
  const src = join(work, 'osbuild-src');
  mkdirSync(src);
  // Only what a build needs: a mirror may lack the blobs of large test data.
  const archive = spawnSync(
    'sh',
    [
      '-c',
      'git --git-dir "$1" archive HEAD osbuild stages runners sources inputs devices mounts schemas | tar -x -C "$2"',
      'sh',
      gitDir,
      src,
    ],
    { encoding: 'utf8' },
  );
  if (archive.status !== 0) return `git archive of ${gitDir} failed: ${archive.stderr.trim()}`;
  return { src, describe: commit };
}

/** OSBuild from its source, or the reason it cannot run here. */
function setUpOsbuild(work: string): OsbuildSetup | string {
  const source = osbuildSource(work);
  if (typeof source === 'string') return source;
  const { src, describe: commit } = source;

  const python = findPython();
  if (typeof python !== 'string') return python.reason;
  const version = spawnSync(python, ['--version'], { encoding: 'utf8' }).stdout.trim();

  // OSBuild bind-mounts the host's /etc/containers into its host build root and fails without
  // one. Where it is missing, OSBuild runs with an overlay on /etc that adds the empty directory —
  // in a private mount namespace, so nothing on the host changes and nothing it mounts outlives it.
  const needsOverlay = !existsSync('/etc/containers');
  const overlay = join(work, 'etc-overlay');
  if (needsOverlay) {
    mkdirSync(join(overlay, 'upper/containers'), { recursive: true });
    mkdirSync(join(overlay, 'work'), { recursive: true });
  }
  const script = [
    'set -e',
    needsOverlay
      ? `mount -t overlay overlay -o lowerdir=/etc,upperdir=${overlay}/upper,workdir=${overlay}/work /etc`
      : ':',
    `cd ${src}`,
    `exec ${python} -m osbuild --libdir ${src} "$@"`,
  ].join('\n');
  return {
    describe: `OSBuild ${commit} (${version}${needsOverlay ? ', /etc/containers added in a private mount namespace' : ''})`,
    run: (args, what) =>
      timed(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args], what),
  };
}

/** A python3 that can import jsonschema (OSBuild's one dependency), installing it if need be. */
function findPython(): string | { reason: string } {
  const candidates = [
    spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout?.trim(),
    '/usr/bin/python3',
  ].filter((p): p is string => Boolean(p));
  const works = () => candidates.find((p) => spawnSync(p, ['-c', 'import jsonschema']).status === 0);
  let python = works();
  if (!python && existsSync('/usr/bin/apt-get')) {
    console.log('installing python3-jsonschema for OSBuild …');
    spawnSync('apt-get', ['install', '-y', 'python3-jsonschema'], { stdio: 'ignore' });
    python = works();
  }
  return python ?? { reason: 'no python3 with jsonschema (apt-get install -y python3-jsonschema)' };
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const reason = why();
  if (reason) {
    console.log(`engine overhead benchmark skipped: ${reason}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'forge-bench-'));
  try {
    const libdir = join(work, 'libdir');
    cpSync(LIBDIR, libdir, { recursive: true });
    const write = (name: string, value: unknown) => {
      const path = join(work, name);
      writeFileSync(path, JSON.stringify(value));
      return path;
    };
    const empty = write('empty.json', EMPTY);
    const noop = write('noop20.json', NOOP20);
    const mct = write('mkdir-copy-tar.json', mkdirCopyTar());
    let n = 0;
    const fresh = (tag: string) => join(work, `${tag}-${++n}`);

    const forge = (manifest: string, store: string, extra: string[], what: string) => {
      const r = timed(
        [
          process.execPath,
          FORGE,
          'build',
          manifest,
          '--libdir',
          libdir,
          '--store',
          store,
          '--rundir',
          join(work, 'run'),
          ...extra,
        ],
        what,
      );
      return r;
    };
    const exportFlags = (name: string) => ['--export', name, '--output-directory', fresh('out')];
    const cache = ['--checkpoint', '*', '--cache-max-size', 'unlimited'];

    console.log(
      `forge build overhead: ${REPS} repetitions on ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} CPUs`,
    );
    const noopId = JSON.parse(timed([process.execPath, FORGE, 'inspect', noop], 'forge inspect').stdout)
      .pipelines[0].stages[19].id as string;

    const forgeSamples = new Samples();
    // One unmeasured run first, so that tsx's transpile cache and the page cache are warm.
    forge(noop, fresh('store'), exportFlags('noop'), 'warm-up');
    for (let rep = 1; rep <= REPS; rep++) {
      progress(rep);
      forgeSamples.add('empty manifest', forge(empty, fresh('store'), [], 'empty').seconds);
      for (const [name, path, exp] of [
        ['20 × noop', noop, 'noop'],
        ['mkdir/copy/tar', mct, 'tar'],
      ] as const) {
        forgeSamples.add(
          `${name}, cold`,
          forge(path, fresh('store'), exportFlags(exp), `${name} cold`).seconds,
        );
        const store = fresh('store');
        const first = forge(path, store, [...cache, ...exportFlags(exp)], `${name} cold + commit`);
        forgeSamples.add(`${name}, cold + commit`, first.seconds);
        const second = forge(path, store, [...cache, ...exportFlags(exp)], `${name} cached`);
        if (!/Nothing to build/.test(second.stdout))
          throw new Error(`${name}: the cached run built something`);
        forgeSamples.add(`${name}, cached`, second.seconds);
      }
    }
    forgeSamples.print('forge build (wall clock)');
    const perStage = (forgeSamples.med('20 × noop, cold') - forgeSamples.med('empty manifest')) / 20;
    const perStageMin = (forgeSamples.min('20 × noop, cold') - forgeSamples.min('empty manifest')) / 20;
    console.log(
      `  per-stage overhead = (20 × noop cold − empty) / 20 = ${ms(perStage)} (medians), ${ms(perStageMin)} (minima)`,
    );

    const osbuild = setUpOsbuild(work);
    if (typeof osbuild === 'string') {
      console.log(`\nOSBuild comparison skipped: ${osbuild}`);
      return;
    }
    const osbId = JSON.parse(osbuild.run(['--inspect', noop], 'osbuild --inspect').stdout).pipelines[0]
      .stages[19].id as string;
    if (osbId !== noopId)
      throw new Error(`forge and OSBuild disagree on the noop manifest's id: ${noopId} ${osbId}`);
    const osbSamples = new Samples();
    const osb = (manifest: string, extra: string[], what: string) =>
      osbuild.run(
        ['--store', fresh('osbuild-store'), '--rundir', join(work, 'osbuild-run'), ...extra, manifest],
        what,
      ).seconds;
    osb(noop, exportFlags('noop'), 'osbuild warm-up');
    for (let rep = 1; rep <= REPS; rep++) {
      progress(rep);
      osbSamples.add('empty manifest', osb(empty, [], 'osbuild empty'));
      osbSamples.add('20 × noop, cold', osb(noop, exportFlags('noop'), 'osbuild noop cold'));
    }
    osbSamples.print(`${osbuild.describe}, the same manifests (ids agree: ${noopId.slice(0, 12)}…)`);
    const osbPerStage = (osbSamples.med('20 × noop, cold') - osbSamples.med('empty manifest')) / 20;
    const osbPerStageMin = (osbSamples.min('20 × noop, cold') - osbSamples.min('empty manifest')) / 20;
    console.log(`  per-stage overhead = ${ms(osbPerStage)} (medians), ${ms(osbPerStageMin)} (minima)`);
    console.log('\nforge / OSBuild (medians; below 1 means forge is faster)');
    console.log(
      `  20 × noop, cold:    ${(forgeSamples.med('20 × noop, cold') / osbSamples.med('20 × noop, cold')).toFixed(2)}`,
    );
    console.log(
      `  empty manifest:     ${(forgeSamples.med('empty manifest') / osbSamples.med('empty manifest')).toFixed(2)}`,
    );
    console.log(`  per stage:          ${(perStage / osbPerStage).toFixed(2)}`);
  } finally {
    // Nothing is mounted below `work` (forge releases its mounts; OSBuild ran in its own namespace).
    rmSync(work, { recursive: true, force: true });
  }
}

main();
