import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type CachedDeb,
  DebsUnavailable,
  debInput,
  debianSkipReason,
  debsFor,
  hostMirror,
  treeListing,
} from '../../shared/debs.fixture.ts';
import { StageError } from '../../shared/errors.ts';
import type { DebPackage } from '../../shared/local-repo.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const EPOCH = 1700000000;
const BASE = ['?essential', '?priority(required)', 'usr-is-merged'];
const SUITE = hostMirror()?.suite ?? 'bookworm';
const REPO_ROOT = resolve(import.meta.dirname, '../../../../..');

let skip = debianSkipReason();
let base: CachedDeb[] = [];
let withLess: CachedDeb[] = [];
let root: TestRoot;

function ready(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return !skip;
}

/** Runs the stage's main in a child process without network (a new, empty network namespace). */
function mainOffline(args: object): { packages: DebPackage[] } {
  const file = join(root.dir, 'offline-args.json');
  const metaFile = join(root.dir, 'offline-meta.json');
  writeFileSync(file, JSON.stringify(args));
  const stage = pathToFileURL(join(import.meta.dirname, 'stage.ts')).href;
  const script = [
    `import { readFileSync, writeFileSync } from 'node:fs';`,
    `import { main } from ${JSON.stringify(stage)};`,
    `const meta = await main(JSON.parse(readFileSync(${JSON.stringify(file)}, 'utf8')));`,
    `writeFileSync(${JSON.stringify(metaFile)}, JSON.stringify(meta));`,
  ].join('\n');
  const r = spawnSync(
    'unshare',
    ['--net', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  assert.equal(r.status, 0, 'the stage failed in the network-less namespace');
  return JSON.parse(readFileSync(metaFile, 'utf8'));
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

describe('org.osbuild.debootstrap', { timeout: 15 * 60 * 1000 }, () => {
  before(() => {
    if (skip) {
      process.stdout.write(`# skipping org.osbuild.debootstrap tests: ${skip}\n`);
      return;
    }
    try {
      base = debsFor(BASE);
      withLess = debsFor([...BASE, 'less']);
    } catch (err) {
      if (!(err instanceof DebsUnavailable)) throw err;
      skip = `no Debian packages to test with: ${(err as Error).message}`;
      process.stdout.write(`# skipping org.osbuild.debootstrap tests: ${skip}\n`);
    }
    root = testRoot('forge-debootstrap-');
  });
  after(() => root?.cleanup());

  it('bootstraps a merged-/usr system from the inputs alone, offline, and the same twice', (t) => {
    if (!ready(t)) return;
    const input = debInput(join(root.dir, 'inputs/packages'), base);
    const trees = [join(root.dir, 'one'), join(root.dir, 'two')];
    for (const tree of trees) mkdirSync(tree);
    const options = { suite: SUITE };
    const meta = { id: '0'.repeat(64), 'source-epoch': EPOCH };

    let started = Date.now();
    const first = mainOffline(root.args(options, { tree: trees[0], inputs: { packages: input }, meta }));
    t.diagnostic(`bootstrap of ${base.length} packages without network: ${(Date.now() - started) / 1000} s`);
    started = Date.now();
    const second = main(root.args(options, { tree: trees[1] as string, inputs: { packages: input }, meta }));
    t.diagnostic(`bootstrap of ${base.length} packages: ${(Date.now() - started) / 1000} s`);

    // Every input package is installed, as the metadata and the dpkg status say.
    const tree = trees[1] as string;
    assert.deepEqual(
      second.packages.map((p) => p.name),
      [...new Set(base.map((d) => d.name))].sort(),
    );
    for (const d of base) {
      assert.ok(
        second.packages.some((p) => p.name === d.name && p.version === d.version && p.arch === d.arch),
      );
    }
    assert.deepEqual(first, second);
    const status = readFileSync(join(tree, 'var/lib/dpkg/status'), 'utf8');
    assert.match(status, /^Package: bash\n(?:.+\n)*?Status: install ok installed$/m);
    assert.ok(!second.packages.some((p) => p.name === 'usr-is-merged' && p.version === '1'));

    // merged /usr
    assert.equal(readlinkSync(join(tree, 'bin')), 'usr/bin');
    assert.equal(readlinkSync(join(tree, 'sbin')), 'usr/sbin');
    assert.equal(readlinkSync(join(tree, 'lib')), 'usr/lib');
    assert.ok(lstatSync(join(tree, 'usr/bin/bash')).isFile());

    // nothing of the build left behind
    assert.deepEqual(readdirSync(join(tree, 'var/lib/apt/lists')).sort(), ['lock', 'partial']);
    assert.deepEqual(readdirSync(join(tree, 'var/lib/apt/lists/partial')), []);
    assert.deepEqual(readdirSync(join(tree, 'var/cache/apt/archives')).sort(), ['lock', 'partial']);
    assert.deepEqual(
      readdirSync(join(tree, 'var/cache/apt')).filter((n) => n.endsWith('.bin')),
      [],
    );
    assert.equal(existsSync(join(tree, 'etc/apt/sources.list')), false);
    assert.deepEqual(readdirSync(join(tree, 'etc/apt/sources.list.d')), []);
    assert.equal(existsSync(join(tree, 'etc/resolv.conf')), false);
    assert.equal(existsSync(join(tree, 'etc/hostname')), false);
    assert.deepEqual(readdirSync(join(tree, 'dev')), []);
    assert.deepEqual(readdirSync(join(tree, 'tmp')), []);
    assert.equal(existsSync(join(tree, 'var/log/dpkg.log')), false);
    assert.deepEqual(readdirSync(join(tree, 'etc/dpkg/dpkg.cfg.d')), []);
    assert.deepEqual(mountsUnder(root.dir), []);

    // reproducible: the two trees are identical, time stamps included
    const listing = treeListing(tree);
    assert.equal(treeListing(trees[0] as string), listing);
    assert.ok(!listing.split('\n').some((l) => Number(l.split('\t')[5]) > EPOCH));
  });

  it('installs the Essential:yes packages of the input for variant essential', (t) => {
    if (!ready(t)) return;
    const input = debInput(join(root.dir, 'inputs/less'), withLess);
    const tree = join(root.dir, 'essential');
    mkdirSync(tree);
    const started = Date.now();
    const { packages } = main(
      root.args({ suite: SUITE, variant: 'essential' }, { tree, inputs: { packages: input } }),
    );
    t.diagnostic(`bootstrap of variant essential: ${(Date.now() - started) / 1000} s`);
    // Essential is read from the packages' own control data, as the input has no archive index
    const essential = withLess
      .filter((d) =>
        /^Essential: yes$/m.test(execFileSync('dpkg-deb', ['-f', d.path, 'Essential'], { encoding: 'utf8' })),
      )
      .map((d) => d.name);
    const names = packages.map((p) => p.name);
    for (const name of [...essential, 'usr-is-merged']) assert.ok(names.includes(name), `${name} is missing`);
    assert.ok(names.includes('bash'));
    assert.ok(!names.includes('apt') && !names.includes('less'), 'apt and less are not essential');
    assert.equal(readlinkSync(join(tree, 'bin')), 'usr/bin');
  });

  it('fails clearly on bad inputs and options, before touching the tree', (t) => {
    if (!ready(t)) return;
    const input = debInput(join(root.dir, 'inputs/packages'), base);
    const noMerge = debInput(
      join(root.dir, 'inputs/no-usr-is-merged'),
      base.filter((d) => d.name !== 'usr-is-merged'),
    );
    const tree = join(root.dir, 'failing');
    mkdirSync(tree);
    const args = (options: Parameters<typeof main>[0]['options'], packages = input) =>
      root.args(options, { tree, inputs: { packages } });
    assert.throws(
      () => main(args({ suite: SUITE }, noMerge)),
      (e: Error) => e instanceof StageError && /usr-is-merged/.test(e.message),
    );
    assert.throws(
      () => main(args({ suite: SUITE, packages: ['bash', 'no-such-package'] })),
      (e: Error) => e instanceof StageError && /no-such-package/.test(e.message),
    );
    assert.throws(
      () => main(args({ suite: SUITE, arch: 'arm64' })),
      (e: Error) => e instanceof StageError && /arm64/.test(e.message),
    );
    const junk = join(root.dir, 'inputs/junk');
    mkdirSync(junk, { recursive: true });
    writeFileSync(join(junk, 'sha256:00'), 'not a package');
    assert.throws(
      () => main(args({ suite: SUITE }, { path: junk, data: { files: { 'sha256:00': {} } } })),
      (e: Error) => e instanceof StageError && /not Debian packages/.test(e.message),
    );
    assert.deepEqual(readdirSync(tree), []);
    writeFileSync(join(tree, 'file'), '');
    assert.throws(
      () => main(args({ suite: SUITE })),
      (e: Error) => e instanceof StageError && /not empty/.test(e.message),
    );
  });

  it('reports what apt says when the inputs cannot satisfy a dependency', (t) => {
    if (!ready(t)) return;
    const noLibc = debInput(
      join(root.dir, 'inputs/no-libc'),
      base.filter((d) => d.name !== 'libc6'),
    );
    const tree = join(root.dir, 'unsatisfiable');
    mkdirSync(tree);
    assert.throws(
      () => main(root.args({ suite: SUITE }, { tree, inputs: { packages: noLibc } })),
      (e: Error) => e instanceof StageError && /mmdebstrap/.test(e.message),
    );
    assert.deepEqual(mountsUnder(root.dir), []);
  });
});
