/**
 * `forge sbuild hello` against Debian's `sbuild --chroot-mode=unshare` for the same source package
 * (the .dsc and files apt pins from the deb-src of the host's mirror, the same for both) and suite,
 * in one run, wall clock of each whole command as a user waits for it:
 *
 *   forge   cold     an empty state dir: apt update, depsolve, downloads, the build root, the build
 *                    environment (minbase, build-essential, hello's build dependencies), the build;
 *           warm     the same state dir without the built packages' object: the environment and
 *                    the source come from the store, only the build runs (what a new version of a
 *                    source with the same build dependencies costs);
 *           cached   the same again: nothing is built, the files come from the store;
 *   sbuild  cold     mmdebstrap --variant=buildd makes the chroot tarball sbuild's unshare mode
 *                    needs (into a temporary XDG_CACHE_HOME, from the host's mirror), then sbuild;
 *           warm     sbuild with that tarball: it unpacks it, installs the build dependencies
 *                    (downloaded again: the chroot keeps no cache) and builds.
 *
 * Runs are interleaved (forge, sbuild, forge, sbuild, forge), each after a `sync`, so a change of
 * load on this shared machine falls on both. Then the two cold builds' hello .deb are compared:
 * their `dpkg-deb -c` listings line by line, their control fields, and every file's bytes.
 *
 *   node --import tsx bench/sbuild.ts [--distro debian-12]   (npm run bench:sbuild)
 *
 * Needs root, bubblewrap, sbuild and mmdebstrap (and root's /etc/subuid range for sbuild's
 * unshare); prints why and exits 0 otherwise. The mirrors are never printed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  debianRepositories,
  debianSourceRepositories,
  hostDebianProblem,
  openRoot,
  type ResolvedSource,
  resolveSource,
} from '@debian-forge/apt';
import { getDistro } from '@debian-forge/composer';
import { mirrorLines } from './mirrors.ts';

const REPO = resolve(import.meta.dirname, '..');
const FORGE = join(REPO, 'apps/cli/bin/forge.js');
const SOURCE = 'hello';

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (forge builds in bubblewrap, mmdebstrap in root mode)';
  for (const tool of ['bwrap', 'sbuild', 'mmdebstrap']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `needs ${tool}`;
  }
  if (!/^root:/m.test(readFileSync('/etc/subuid', 'utf8')))
    return "needs a /etc/subuid range of root's for sbuild --chroot-mode=unshare";
  return hostDebianProblem();
}

interface Run {
  seconds: number;
  status: number | null;
  out: string;
}

function timed(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  spawnSync('sync');
  const t0 = performance.now();
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const seconds = (performance.now() - t0) / 1000;
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0)
    console.log(
      `  ${argv.slice(0, 3).join(' ')} … failed (${r.status}):\n${out.split('\n').slice(-30).join('\n')}`,
    );
  return { seconds, status: r.status, out };
}

/** The .dsc and its files, from the URLs apt pinned, checked by SHA256. */
async function download(source: ResolvedSource, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const f of [source.dsc, ...source.files]) {
    const res = await fetch(f.url);
    if (!res.ok) throw new Error(`${f.filename}: HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (createHash('sha256').update(bytes).digest('hex') !== f.sha256)
      throw new Error(`${f.filename}: SHA256 differs from the Sources index`);
    writeFileSync(join(dir, f.filename), bytes);
  }
  return join(dir, source.dsc.filename);
}

/** The stored object whose tree holds the built .deb (the debs pipeline's), removed. */
function forgetBuiltPackages(store: string): number {
  let removed = 0;
  for (const id of readdirSync(join(store, 'objects'))) {
    const tree = join(store, 'objects', id, 'data/tree');
    if (existsSync(tree) && readdirSync(tree).some((n) => n.startsWith(`${SOURCE}_`) && n.endsWith('.deb'))) {
      rmSync(join(store, 'objects', id), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** Every entry under `root`: a file's SHA256, a link's target, a directory. */
function contents(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of readdirSync(root, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = join(root, rel);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out.set(rel, `-> ${readlinkSync(p)}`);
    else if (st.isDirectory()) out.set(rel, 'dir');
    else out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

function text(argv: string[]): string {
  return spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' }).stdout;
}

function compareDebs(forgeDeb: string, sbuildDeb: string, dir: string): void {
  console.log(
    `\n.deb contents, forge's against sbuild's (${relative(dir, forgeDeb)} / ${relative(dir, sbuildDeb)}):`,
  );
  const same = (a: string, b: string) =>
    createHash('sha256').update(readFileSync(a)).digest('hex') ===
    createHash('sha256').update(readFileSync(b)).digest('hex');
  console.log(`  whole .deb: ${same(forgeDeb, sbuildDeb) ? 'identical bytes' : 'different bytes'}`);
  const listA = text(['dpkg-deb', '-c', forgeDeb]).trimEnd().split('\n');
  const listB = text(['dpkg-deb', '-c', sbuildDeb]).trimEnd().split('\n');
  const onlyA = listA.filter((l) => !listB.includes(l));
  const onlyB = listB.filter((l) => !listA.includes(l));
  console.log(
    `  dpkg-deb -c: ${listA.length} / ${listB.length} entries, ${onlyA.length + onlyB.length === 0 ? 'identical listings (modes, owners, sizes, times, paths)' : `${onlyA.length} lines only in forge's, ${onlyB.length} only in sbuild's`}`,
  );
  for (const l of onlyA.slice(0, 8)) console.log(`    forge:  ${l}`);
  for (const l of onlyB.slice(0, 8)) console.log(`    sbuild: ${l}`);
  const fields = (deb: string) => text(['dpkg-deb', '-f', deb]);
  const [fa, fb] = [fields(forgeDeb), fields(sbuildDeb)];
  console.log(`  control fields: ${fa === fb ? 'identical' : 'different'}`);
  if (fa !== fb) {
    const lb = fb.split('\n');
    const la = fa.split('\n');
    for (const l of la.filter((x) => !lb.includes(x))) console.log(`    forge:  ${l}`);
    for (const l of lb.filter((x) => !la.includes(x))) console.log(`    sbuild: ${l}`);
  }
  const xa = join(dir, 'x-forge');
  const xb = join(dir, 'x-sbuild');
  spawnSync('dpkg-deb', ['-x', forgeDeb, xa]);
  spawnSync('dpkg-deb', ['-x', sbuildDeb, xb]);
  const [ca, cb] = [contents(xa), contents(xb)];
  const paths = [...new Set([...ca.keys(), ...cb.keys()])].sort();
  const differing = paths.filter((p) => ca.get(p) !== cb.get(p));
  console.log(`  file bytes: ${paths.length - differing.length} of ${paths.length} entries identical`);
  for (const p of differing.slice(0, 12))
    console.log(`    differs: ${p} (${ca.get(p) ?? 'absent'} / ${cb.get(p) ?? 'absent'})`);
}

async function main(): Promise<void> {
  const reason = why();
  if (reason) {
    console.log(`forge sbuild vs sbuild benchmark skipped: ${reason}`);
    return;
  }
  const { values } = parseArgs({ options: { distro: { type: 'string', default: 'debian-12' } } });
  const distro = getDistro(values.distro as string);
  if (!distro) throw new Error(`unknown distro ${values.distro}`);
  const arch = distro.arches.x86_64 as string;
  const dir = mkdtempSync('/var/tmp/forge-bench-sbuild-');
  try {
    const srcRoot = await openRoot({
      stateDir: join(dir, 'apt-src'),
      repositories: debianSourceRepositories(distro.suite),
    });
    const source = await resolveSource(srcRoot, { name: SOURCE });
    const dsc = await download(source, join(dir, 'src'));
    const mirrors = mirrorLines(debianRepositories(distro.suite));
    console.log(
      `forge sbuild ${SOURCE} against sbuild --chroot-mode=unshare: ${source.name} ${source.version}, ${distro.name} (${distro.suite}) ${arch}`,
    );
    console.log(
      `mirrors: the host's apt sources (${mirrors.length} lines), the same for both; load average at start: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );

    const state = join(dir, 'forge-state');
    const forge = (name: string) => {
      const out = join(dir, `forge-${name}`);
      const r = timed([
        process.execPath,
        FORGE,
        'sbuild',
        SOURCE,
        '--distro',
        distro.name,
        '--state-dir',
        state,
        '--output',
        out,
        '--monitor',
        'NullMonitor',
      ]);
      return { ...r, out };
    };
    const cache = join(dir, 'cache');
    const tarball = join(cache, 'sbuild', `${distro.suite}-${arch}.tar`);
    const sbuildEnv = { XDG_CACHE_HOME: cache, HOME: join(dir, 'home') };
    mkdirSync(sbuildEnv.HOME, { recursive: true });
    const sbuild = (name: string) => {
      const out = join(dir, `sbuild-${name}`);
      mkdirSync(out, { recursive: true });
      const r = timed(
        [
          'sbuild',
          '--chroot-mode=unshare',
          `--dist=${distro.suite}`,
          `--arch=${arch}`,
          '--no-run-lintian',
          '--no-run-autopkgtest',
          '--no-run-piuparts',
          '--nolog',
          dsc,
        ],
        { cwd: out, env: sbuildEnv },
      );
      return { ...r, out };
    };
    const mmdebstrap = () => {
      mkdirSync(join(cache, 'sbuild'), { recursive: true });
      return timed([
        'mmdebstrap',
        '--variant=buildd',
        `--arch=${arch}`,
        '--skip=output/mknod',
        '--format=tar',
        distro.suite,
        tarball,
        ...mirrors,
      ]);
    };

    const rows: [string, number | undefined, number | undefined][] = [];
    const forgeCold = forge('cold');
    const tar = mmdebstrap();
    const sbuildCold = sbuild('cold');
    rows.push(['cold', forgeCold.seconds, tar.seconds + sbuildCold.seconds]);
    const forgotten = forgetBuiltPackages(join(state, 'store'));
    const forgeWarm = forge('warm');
    const sbuildWarm = sbuild('warm');
    rows.push([`warm`, forgeWarm.seconds, sbuildWarm.seconds]);
    const forgeCached = forge('cached');
    rows.push(['cached (forge only)', forgeCached.seconds, undefined]);
    console.log(
      `\n(warm: forge with ${forgotten} stored object of built packages removed; sbuild cold = mmdebstrap ${tar.seconds.toFixed(0)} s + sbuild ${sbuildCold.seconds.toFixed(0)} s)`,
    );
    console.log('\nwall clock (s)          forge sbuild   sbuild unshare   forge / sbuild');
    for (const [name, f, s] of rows) {
      const cell = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1)).padStart(12);
      const ratio = f !== undefined && s !== undefined ? (f / s).toFixed(2) : '—';
      console.log(`${name.padEnd(20)}${cell(f)}${cell(s)}   ${ratio.padStart(14)}`);
    }
    console.log(
      `load average at end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const failed = [forgeCold, tar, sbuildCold, forgeWarm, sbuildWarm, forgeCached].some(
      (r) => r.status !== 0,
    );
    if (failed) {
      process.exitCode = 1;
      return;
    }
    const debName = `${SOURCE}_${source.version.replace(/^\d+:/, '')}_${arch}.deb`;
    compareDebs(join(forgeCold.out, debName), join(sbuildCold.out, debName), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
