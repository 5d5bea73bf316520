import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
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
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as debootstrap } from '../org.osbuild.debootstrap/stage.ts';
import { main } from './stage.ts';

const EPOCH = 1700000000;
const BASE = ['?essential', '?priority(required)', 'usr-is-merged'];
const SUITE = hostMirror()?.suite ?? 'bookworm';

let skip = debianSkipReason();
let base: CachedDeb[] = [];
let extra: CachedDeb[] = [];
let root: TestRoot;
let baseTree = '';

function ready(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return !skip;
}

/** The packages apt adds to the base set for `request`, as input files. */
function beyondBase(request: string[], recommends = false): CachedDeb[] {
  const inBase = new Set(base.map((d) => d.filename));
  return debsFor([...BASE, ...request], { recommends }).filter((d) => !inBase.has(d.filename));
}

/** A fresh copy of the bootstrapped base tree. */
function copyOfBase(name: string): string {
  const tree = join(root.dir, name);
  execFileSync('cp', ['-a', baseTree, tree]);
  return tree;
}

/**
 * A tree holding one .deb built here (forge-built, architecture all, with `relation` as its control
 * field) and the files an sbuild build leaves beside it.
 */
function builtTree(name: string, relation: string): string {
  const src = join(root.dir, `src-${name}`);
  mkdirSync(join(src, 'DEBIAN'), { recursive: true });
  mkdirSync(join(src, 'usr/share/forge-built'), { recursive: true });
  writeFileSync(join(src, 'usr/share/forge-built/hello'), 'built here\n');
  writeFileSync(
    join(src, 'DEBIAN/control'),
    `Package: forge-built\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Forge Test <forge@example.org>\n${relation}\nDescription: a package built by the test\n`,
  );
  const tree = join(root.dir, `tree-${name}`);
  mkdirSync(tree, { recursive: true });
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', src, join(tree, 'forge-built_1.0-1_all.deb')]);
  writeFileSync(join(tree, 'forge-built_1.0-1_amd64.buildinfo'), 'Format: 1.0\n');
  return tree;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

describe('org.osbuild.apt', { timeout: 15 * 60 * 1000 }, () => {
  before(() => {
    if (!skip) {
      try {
        base = debsFor(BASE);
        // recommended packages (wget's publicsuffix and ca-certificates) are in the input too
        extra = beyondBase(['less', 'wget'], true);
      } catch (err) {
        if (!(err instanceof DebsUnavailable)) throw err;
        skip = `no Debian packages to test with: ${(err as Error).message}`;
      }
    }
    if (skip) {
      process.stdout.write(`# skipping org.osbuild.apt tests: ${skip}\n`);
      return;
    }
    root = testRoot('forge-apt-');
    baseTree = join(root.dir, 'base');
    mkdirSync(baseTree);
    debootstrap(
      root.args(
        { suite: SUITE },
        {
          tree: baseTree,
          inputs: { packages: debInput(join(root.dir, 'inputs/base'), base) },
          meta: { id: '0'.repeat(64), 'source-epoch': EPOCH },
        },
      ),
    );
  });
  after(() => root?.cleanup());

  it('installs packages and their dependencies from the inputs, leaving no trace of the build', (t) => {
    if (!ready(t)) return;
    const input = debInput(join(root.dir, 'inputs/extra'), extra);
    const trees = [copyOfBase('one'), copyOfBase('two')];
    const metas = trees.map((tree) => {
      const started = Date.now();
      const meta = main(
        root.args(
          { packages: ['less', 'wget'], 'apt-options': ['Debug::pkgProblemResolver=0'] },
          { tree, inputs: { packages: input }, meta: { id: '0'.repeat(64), 'source-epoch': EPOCH } },
        ),
      );
      t.diagnostic(`apt install of less and wget: ${(Date.now() - started) / 1000} s`);
      return meta;
    });
    const tree = trees[0] as string;
    const names = metas[0]?.packages.map((p) => p.name) ?? [];
    assert.ok(names.includes('less') && names.includes('wget') && names.includes('bash'));
    assert.ok(names.includes('libpsl5'), 'a dependency of wget from the input is installed');
    assert.ok(
      !names.includes('ca-certificates') && !names.includes('publicsuffix'),
      'recommended packages stay out by default',
    );
    assert.deepEqual(metas[0], metas[1]);
    assert.ok(existsSync(join(tree, 'usr/bin/less')));
    assert.match(
      readFileSync(join(tree, 'var/lib/dpkg/status'), 'utf8'),
      /^Package: less\n(?:.+\n)*?Status: install ok installed$/m,
    );
    // wget was asked for, libpsl5 came as a dependency: apt marks it automatic
    assert.match(readFileSync(join(tree, 'var/lib/apt/extended_states'), 'utf8'), /^Package: libpsl5\n/m);

    assert.deepEqual(readdirSync(join(tree, 'var/cache/apt/archives')).sort(), ['lock', 'partial']);
    assert.deepEqual(readdirSync(join(tree, 'var/cache/apt/archives/partial')), []);
    assert.deepEqual(readdirSync(join(tree, 'var/lib/apt/lists')).sort(), ['lock', 'partial']);
    assert.equal(existsSync(join(tree, 'usr/sbin/policy-rc.d')), false);
    assert.equal(existsSync(join(tree, 'etc/apt/sources.list')), false);
    assert.deepEqual(readdirSync(join(tree, 'etc/apt/sources.list.d')), []);
    assert.equal(existsSync(join(tree, 'var/log/dpkg.log')), false);
    assert.equal(existsSync(join(tree, 'var/log/apt/history.log')), false);
    assert.deepEqual(readdirSync(join(tree, 'tmp')), []);
    assert.deepEqual(mountsUnder(root.dir), []);
    assert.equal(treeListing(trees[1] as string), treeListing(tree));
  });

  it('installs recommended packages on request and keeps an existing policy-rc.d', (t) => {
    if (!ready(t)) return;
    const tree = copyOfBase('recommends');
    const policy = '#!/bin/sh\nexit 0\n';
    writeFileSync(join(tree, 'usr/sbin/policy-rc.d'), policy, { mode: 0o755 });
    const { packages } = main(
      root.args(
        { packages: ['wget'], recommends: true },
        { tree, inputs: { packages: debInput(join(root.dir, 'inputs/extra'), extra) } },
      ),
    );
    const names = packages.map((p) => p.name);
    assert.ok(names.includes('wget') && names.includes('ca-certificates') && names.includes('publicsuffix'));
    assert.ok(!names.includes('less'));
    assert.equal(readFileSync(join(tree, 'usr/sbin/policy-rc.d'), 'utf8'), policy);
    assert.ok(existsSync(join(tree, 'etc/ssl/certs/ca-certificates.crt')), 'ca-certificates was configured');
  });

  it('installs a package of a tree input (as an sbuild pipeline’s) with its dependencies from packages', (t) => {
    if (!ready(t)) return;
    const built = builtTree('built', 'Depends: less (>= 1)');
    const tree = copyOfBase('from-tree');
    const input = debInput(join(root.dir, 'inputs/extra'), extra);
    const { packages } = main(
      root.args(
        { packages: ['forge-built'] },
        { tree, inputs: { packages: input, 'debs-built': { path: built, data: {} } } },
      ),
    );
    const names = packages.map((p) => p.name);
    assert.ok(names.includes('forge-built') && names.includes('less'));
    assert.ok(!names.includes('wget'), 'only what the built package needs');
    assert.equal(readFileSync(join(tree, 'usr/share/forge-built/hello'), 'utf8'), 'built here\n');

    // Alone, without the packages input, when the tree has what it depends on.
    const alone = copyOfBase('tree-alone');
    const plain = builtTree('plain', 'Depends: bash');
    main(
      root.args({ packages: ['forge-built'] }, { tree: alone, inputs: { plain: { path: plain, data: {} } } }),
    );
    assert.ok(existsSync(join(alone, 'usr/share/forge-built/hello')));
  });

  it('names a dependency of a built package found neither in the inputs nor in the tree', (t) => {
    if (!ready(t)) return;
    const built = builtTree('needy', 'Pre-Depends: forge-absent-dependency (>= 2)');
    const tree = copyOfBase('needy');
    assert.throws(
      () =>
        main(
          root.args({ packages: ['forge-built'] }, { tree, inputs: { needy: { path: built, data: {} } } }),
        ),
      (e: Error) =>
        e instanceof StageError &&
        /forge-built : PreDepends: forge-absent-dependency \(>= 2\) but it is not installable/.test(
          e.message,
        ),
    );
    const none = join(root.dir, 'no-debs');
    mkdirSync(none, { recursive: true });
    assert.throws(
      () => main(root.args({ packages: ['less'] }, { tree, inputs: { none: { path: none, data: {} } } })),
      (e: Error) => e instanceof StageError && /the input 'none' holds no \.deb files/.test(e.message),
    );
  });

  it('fails with a clear error, leaving the tree as it was', (t) => {
    if (!ready(t)) return;
    const tree = copyOfBase('failing');
    // files, links and their time stamps (directories change their times as the policy-rc.d comes and goes)
    const listing = () =>
      treeListing(tree)
        .split('\n')
        .filter((l) => l.split('\t')[1] !== 'd')
        .join('\n');
    const before = listing();
    const input = debInput(join(root.dir, 'inputs/extra'), extra);
    assert.throws(
      () => main(root.args({ packages: ['less', 'no-such-package'] }, { tree, inputs: { packages: input } })),
      (e: Error) => e instanceof StageError && /no-such-package/.test(e.message),
    );
    // libpsl5 missing from the input: apt cannot satisfy wget and says so; dpkg never runs
    const partial = debInput(
      join(root.dir, 'inputs/partial'),
      extra.filter((d) => d.name !== 'libpsl5'),
    );
    assert.throws(
      () => main(root.args({ packages: ['wget'] }, { tree, inputs: { packages: partial } })),
      (e: Error) =>
        e instanceof StageError &&
        /wget cannot be installed from the inputs and the tree:\n(.*\n)*.*Depends: libpsl5/.test(e.message),
    );
    assert.equal(listing(), before);
    assert.deepEqual(mountsUnder(root.dir), []);

    const empty = join(root.dir, 'empty');
    mkdirSync(empty);
    assert.throws(
      () => main(root.args({ packages: ['less'] }, { tree: empty, inputs: { packages: input } })),
      (e: Error) => e instanceof StageError && /no dpkg database/.test(e.message),
    );
  });
});
