/**
 * `forge compose` of a blueprint with `[[source_packages]]`: Debian's hello built from the archive's
 * source by the compose's own sbuild pipelines and installed into a debian-12 tar, where its binary
 * runs (in a bwrap sandbox rooted in the tree); the plan's built package and the tree's dpkg status
 * agree on its version; the same compose again comes from the store (no sbuild, no package stage)
 * and gives the same archive; bad entries are refused before anything is built.
 *
 * Slow the first time (hello's build environment, ~130 packages, and the build): with the host's
 * tools (`--host-buildroot`) and the release date as source epoch its environment is the one
 * test/engine-sbuild.test.ts builds, so with FORGE_TEST_STATE_DIR both find it in one store.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debianRepositories, debianSourceRepositories, hostDebianProblem } from '@debian-forge/apt';
import { aptResolver, getDistro, makeSbuildManifest, SBUILD_BUILD_PIPELINE } from '@debian-forge/composer';
import { EngineIndex } from '@debian-forge/engine';
import { LibdirIndex, loadManifest, type ManifestV2 } from '@debian-forge/manifest';
import { DEFAULT_LIBDIR } from '@debian-forge/stages';
import { forge, sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';

const skip = sandboxUnavailable() ?? hostDebianProblem();
if (skip) console.log(`# skipping the source package compose tests: ${skip}`);

const blueprint = (entries: string) => `name = "hello-from-source"
version = "0.0.1"

${entries}`;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The stages a build ran, by type, from its LogMonitor output. */
function ran(stdout: string): string[] {
  return [...stdout.matchAll(/^\[\d+\/\d+\] (\S+): [0-9a-f]{64}/gm)].map((m) => m[1] as string);
}

describe('forge compose with [[source_packages]]', { skip, timeout: 40 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  before(() => {
    dir = tempDir('forge-compose-source-');
    state = sharedStateDir(join(dir.path, 'state'));
  });
  after(() => dir.cleanup());

  const compose = (bp: string, out: string) => {
    const file = join(dir.path, `${createHash('sha256').update(bp).digest('hex').slice(0, 8)}.toml`);
    writeFileSync(file, bp);
    const t0 = performance.now();
    const r = forge([
      'compose',
      file,
      ...['--type', 'tar', '--distro', 'debian-12', '--host-buildroot'],
      ...['--state-dir', state, '--output', join(dir.path, out)],
    ]);
    return { ...r, seconds: (performance.now() - t0) / 1000 };
  };
  const hello = blueprint('[[source_packages]]\nname = "hello"\n');
  let version = '';

  it('plans hello’s build with one id in a tar, an atomic commit and forge sbuild’s manifest', async () => {
    // Planning only: the source's pipelines name a build root of the sbuild tools alone, so the
    // image's tools do not change their ids and one build in the store serves all three.
    const file = join(dir.path, 'plan.toml');
    writeFileSync(file, hello);
    const index = new EngineIndex(new LibdirIndex(DEFAULT_LIBDIR));
    const ids = (m: ManifestV2) => new Map(loadManifest(m, { index }).pipelines.map((p) => [p.name, p.id]));
    const planned = (type: string) => {
      const out = join(dir.path, `plan-${type}.json`);
      const r = forge([
        'manifest',
        file,
        '--type',
        type,
        '--distro',
        'debian-12',
        '--state-dir',
        state,
        '-o',
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(readFileSync(out, 'utf8')) as ManifestV2;
    };
    const tar = planned('tar');
    assert.deepEqual(
      tar.pipelines.map((p) => [p.name, p.build]),
      [
        ['build', undefined],
        [SBUILD_BUILD_PIPELINE, undefined],
        ['sbuild-env-hello', `name:${SBUILD_BUILD_PIPELINE}`],
        ['source-hello', `name:${SBUILD_BUILD_PIPELINE}`],
        ['debs-hello', `name:${SBUILD_BUILD_PIPELINE}`],
        ['os', 'name:build'],
        ['archive', 'name:build'],
      ],
    );
    const [inTar, inCommit] = [ids(tar), ids(planned('debian-atomic-commit'))];
    const distro = getDistro('debian-12') ?? assert.fail('debian-12');
    const resolver = aptResolver(state);
    const source = await resolver.resolveSource('amd64', debianSourceRepositories(distro.suite), {
      name: 'hello',
    });
    const sourceEpoch = tar.pipelines[0]?.['source-epoch'] ?? assert.fail('no source epoch');
    const { manifest } = await makeSbuildManifest(
      { distro, source, repositories: debianRepositories(distro.suite), sourceEpoch, buildRoot: true },
      resolver,
    );
    const alone = ids(manifest);
    for (const [name, own] of [
      ['sbuild-env-hello', 'sbuild-env'],
      ['source-hello', 'source'],
      ['debs-hello', 'debs'],
    ] as const) {
      assert.equal(inTar.get(name), inCommit.get(name), `${name}: tar and atomic commit`);
      assert.equal(inTar.get(name), alone.get(own), `${name}: tar and forge sbuild`);
    }
    assert.notEqual(inTar.get('build'), inTar.get(SBUILD_BUILD_PIPELINE));
  });

  it('builds hello from the archive’s source into the tar, where it runs', (t) => {
    const r = compose(hello, 'first');
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    t.diagnostic(`compose with hello built from source: ${r.seconds.toFixed(0)} s`);
    const built = /^Built from source: hello (\S+) amd64 \(hello (\S+)\)$/m.exec(r.stdout);
    assert.ok(built, `the plan's built package is printed:\n${r.stdout.slice(0, 2000)}`);
    version = built[1] as string;
    assert.equal(built[2], version, 'hello’s binary has its source’s version');

    const manifest = JSON.parse(readFileSync(join(dir.path, 'first/manifest.json'), 'utf8')) as ManifestV2;
    const names = manifest.pipelines.map((p) => p.name);
    assert.deepEqual(names, ['sbuild-env-hello', 'source-hello', 'debs-hello', 'os', 'archive']);
    const os = manifest.pipelines.find((p) => p.name === 'os');
    const install = os?.stages.filter((s) => s.type === 'org.osbuild.apt').at(-1);
    assert.deepEqual(install?.options, { packages: [`hello=${version}`] });
    assert.deepEqual(Object.keys(install?.inputs ?? {}), ['debs-hello'], 'libc6 is in the base already');

    const root = join(dir.path, 'root');
    mkdirSync(root);
    execFileSync('tar', ['-xf', join(dir.path, 'first/root.tar'), '-C', root]);
    const run = spawnSync(
      'bwrap',
      ['--ro-bind', root, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-all', '/usr/bin/hello'],
      { encoding: 'utf8' },
    );
    assert.equal(run.stdout, 'Hello, world!\n', run.stderr);
    assert.match(
      readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8'),
      new RegExp(
        `^Package: hello\\nStatus: install ok installed\\n(.+\\n)*?Version: ${version.replace(/[.+]/g, '\\$&')}\\n`,
        'm',
      ),
    );
  });

  it('composes the same blueprint again from the store: no build stage runs, the same archive', (t) => {
    if (!version) return t.skip('no first compose');
    const r = compose(hello, 'second');
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    t.diagnostic(`the same compose again: ${r.seconds.toFixed(0)} s`);
    const stages = ran(r.stdout);
    for (const type of ['org.osbuild.sbuild', 'org.osbuild.debian.source', 'org.osbuild.debootstrap']) {
      assert.ok(!stages.includes(type), `${type} ran again: ${stages.join(', ')}`);
    }
    assert.equal(sha256(join(dir.path, 'second/root.tar')), sha256(join(dir.path, 'first/root.tar')));
  });

  it('refuses a source package the archive does not have, naming it', () => {
    const r = compose(blueprint('[[source_packages]]\nname = "forge-no-such-source"\n'), 'unknown');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /no source package 'forge-no-such-source'.*[\s\S]*\[FORGE_ERR_APT_SOURCE_NOT_FOUND\]/,
    );
    const old = compose(blueprint('[[source_packages]]\nname = "hello"\nversion = "0.1-1"\n'), 'old');
    assert.equal(old.status, 1, old.stdout + old.stderr);
    assert.match(old.stderr, /no version 0\.1-1 of source package 'hello' \(known: hello [^)]+\)/);
    assert.match(old.stderr, /\[FORGE_ERR_APT_SOURCE_VERSION\]/);
  });

  it('refuses an install name the source does not build, naming what it builds', () => {
    const r = compose(blueprint('[[source_packages]]\nname = "hello"\ninstall = ["hello-doc"]\n'), 'doc');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /source package hello \S+ builds no hello-doc for amd64 \(it builds: hello\) \[FORGE_ERR_COMPOSE_SOURCE_INSTALL\]/,
    );
  });

  it('refuses hostile entries before anything is resolved (exit 2)', () => {
    for (const [entry, said] of [
      ['name = "hello"\npath = "/srv/hello"', /source package "hello": give exactly one of "name"/],
      ['path = "../hello"', /source package at "..\/hello": "..\/hello" is not an absolute path/],
      ['path = "/srv/../etc"', /must be canonical/],
      ['name = "hello"\nversion = "latest"', /"latest" is not a Debian version/],
      ['name = "hello"\ninstall = ["-o", "APT::Get"]', /"-o" is not a Debian binary package name/],
    ] as const) {
      const r = compose(blueprint(`[[source_packages]]\n${entry}\n`), 'hostile');
      assert.equal(r.status, 2, `${entry}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, said);
      assert.match(r.stderr, /FORGE_ERR_BLUEPRINT_INVALID/);
    }
  });
});
