/**
 * Real OSBuild, run from the checkout of its sources FORGE_OSBUILD_SOURCE names, for the tests that
 * hold forge's outputs of a manifest against OSBuild's own; and those comparisons, which say what
 * must be the same byte for byte and leave out only what differs between any two builds (times,
 * random seeds).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ForgeRun, inPrivateMounts } from './engine.fixture.ts';
import { runAsync, sh } from './engine-host.fixture.ts';

/** Why real OSBuild cannot run from `checkout` here, or undefined when it can. */
export function osbuildUnavailable(checkout: string): string | undefined {
  if (!existsSync(join(checkout, 'schemas', 'osbuild2.json')))
    return `${checkout} has no schemas/osbuild2.json (OSBuild reads its manifest schema from its libdir)`;
  if (spawnSync('python3', ['-c', 'import jsonschema']).status !== 0)
    return 'real OSBuild needs python3 with its jsonschema module';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'needs unshare (util-linux) for real OSBuild';
  return undefined;
}

/**
 * Run in OSBuild's private mount namespace before it: /etc becomes an overlay whose upper layer is a
 * tmpfs on $0, so that /etc/containers exists there. OSBuild binds the host's /etc/containers into
 * the tree it builds a pipeline without a build root in, and fails where the host has none; the
 * host's own /etc is never written, and every mount goes with the namespace.
 */
const WITH_ETC_CONTAINERS = [
  'mount -t tmpfs forge-etc "$0"',
  'mkdir "$0/upper" "$0/work"',
  'mount -t overlay forge-etc -o "lowerdir=/etc,upperdir=$0/upper,workdir=$0/work" /etc',
  'mkdir -p /etc/containers',
  'exec "$@"',
].join(' && ');

/**
 * `osbuild --json MANIFEST` of OSBuild's `checkout` (its own libdir: stages, runners, host modules,
 * schemas and the osbuild package its stages import) with `store`, the `exports` written to `out`;
 * `scratch` holds the namespace's /etc overlay.
 */
export function osbuildAsync(
  checkout: string,
  manifest: string,
  options: { store: string; out: string; exports: string[]; scratch: string },
): Promise<ForgeRun> {
  const etc = join(options.scratch, 'etc-overlay');
  mkdirSync(etc, { recursive: true });
  return runAsync(
    inPrivateMounts(WITH_ETC_CONTAINERS, [
      etc,
      'python3',
      '-m',
      'osbuild',
      '--libdir',
      checkout,
      '--store',
      options.store,
      '--output-directory',
      options.out,
      ...options.exports.flatMap((e) => ['--export', e]),
      '--json',
      manifest,
    ]),
    { env: { ...process.env, PYTHONPATH: checkout } },
  );
}

/** Each entry below `dir` as path, type, mode, owner, size and link target: all but its times. */
function entries(dir: string): string[] {
  return sh(['find', dir, '-printf', '%P\t%y\t%m\t%U:%G\t%s\t%l\n']).split('\n').filter(Boolean).sort();
}

/**
 * `actual` and `expected` hold the same entries, and each regular file the same bytes. Times are
 * left out: without a source epoch, a file's are when the build that made it ran.
 */
export function assertSameTree(actual: string, expected: string): void {
  const list = entries(actual);
  assert.deepEqual(list, entries(expected), `the entries of ${actual} and ${expected}`);
  for (const [path, type] of list.map((l) => l.split('\t'))) {
    if (type !== 'f') continue;
    const r = spawnSync('cmp', [join(actual, path ?? ''), join(expected, path ?? '')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${path}: ${r.stdout}${r.stderr}`);
  }
}

/**
 * The archives list the same members with the same modes, owners, sizes and (unless `times` is
 * false: built without a source epoch, a member's time is the build's) full modification times, in
 * the same order, and each regular member has the same bytes. The archives themselves are not
 * compared byte for byte: OSBuild's tar stage writes POSIX headers (for ACLs and extended
 * attributes) that carry each file's atime and ctime, which are the build's.
 */
export function assertSameTar(actual: string, expected: string, times = true): void {
  const listing = (tar: string) => {
    const text = sh(['tar', '--numeric-owner', '--full-time', '-tvf', tar]);
    return times ? text : text.replace(/^(\S+ +\S+ +\d+) \S+ \S+ +/gm, '$1 ');
  };
  const list = listing(actual);
  assert.equal(list, listing(expected), `the listings of ${actual} and ${expected}`);
  const names = sh(['tar', '-tf', actual]).split('\n').filter(Boolean);
  list
    .split('\n')
    .filter(Boolean)
    .forEach((line, i) => {
      if (!line.startsWith('-')) return;
      const r = spawnSync(
        'bash',
        ['-c', 'cmp <(tar -xOf "$0" -- "$2") <(tar -xOf "$1" -- "$2")', actual, expected, names[i] ?? ''],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, `${names[i]}: ${r.stdout}${r.stderr}`);
    });
}

/**
 * What differs between two ext4 file systems made and filled the same way: mke2fs's times and
 * random directory hash seed, the kernel's times and count of bytes written (its background inode
 * table zeroing writes while the file system is mounted, for as long as it is), and the
 * superblock checksum over them.
 */
const EXT4_VARYING =
  /^(Filesystem created|Last mount time|Last write time|Last checked|Lifetime writes|Directory Hash Seed|Checksum):/;

/**
 * The ext4 images have the same superblock (but for EXT4_VARYING) and the same tree (as
 * assertSameTree has it, extracted into `scratch`).
 */
export function assertSameExt4(actual: string, expected: string, scratch: string): void {
  const header = (image: string) =>
    sh(['dumpe2fs', '-h', image])
      .split('\n')
      .filter((l) => !EXT4_VARYING.test(l));
  assert.deepEqual(header(actual), header(expected), `the superblocks of ${actual} and ${expected}`);
  const [a, b] = ['actual', 'expected'].map((name) => {
    const dir = join(scratch, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }) as [string, string];
  sh(['debugfs', '-R', `rdump / ${a}`, actual]);
  sh(['debugfs', '-R', `rdump / ${b}`, expected]);
  assertSameTree(a, b);
}
