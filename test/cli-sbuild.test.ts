/**
 * `forge sbuild`: Debian's hello from the archive's source into an output directory, as sbuild
 * writes it; the same again served from the store (no build stage runs); a local source tree made
 * here, with a quilt patch, built and its patched program run.
 *
 * Slow the first time; it shares the test state dir and hello's build environment with
 * engine-sbuild.test.ts and the compose tests (forge sbuild's default source epoch, the newest
 * release file's date, which they take too; the host's tools; and a local package with hello's
 * build dependencies), so the store holds that environment once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostDebianProblem } from '@debian-forge/apt';
import { forge, sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';
import { greetSource } from './greet-source.fixture.ts';

const skip = sandboxUnavailable() ?? hostDebianProblem();
describe('forge sbuild', () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  before(() => {
    dir = tempDir('forge-cli-sbuild-');
    state = sharedStateDir(join(dir.path, 'state'));
  });
  after(() => dir.cleanup());

  const sbuild = (what: string, out: string) =>
    forge(['sbuild', what, '--output', out, '--state-dir', state, '--host-buildroot']);

  it('writes hello’s .deb, .buildinfo, .changes and log; a second run builds nothing', (t) => {
    if (skip) return t.skip(skip);
    const out = join(dir.path, 'hello');
    const r = sbuild('hello', out);
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    const names = readdirSync(out).sort();
    const deb = names.find((n) => /^hello_[^_]+_amd64\.deb$/.test(n));
    assert.ok(deb, names.join(', '));
    const stem = deb.slice(0, -'.deb'.length);
    for (const n of [`${stem}.buildinfo`, `${stem}.build`, `${stem}.changes`])
      assert.ok(names.includes(n), n);
    assert.ok(names.includes(`hello-dbgsym_${stem.slice('hello_'.length)}.deb`), 'and the debug symbols');
    const info = spawnSync('dpkg-deb', ['-f', join(out, deb), 'Package'], { encoding: 'utf8' });
    assert.equal(info.stdout, 'hello\n');

    const again = sbuild('hello', join(dir.path, 'hello-again'));
    assert.equal(again.status, 0, again.stdout.slice(-6000) + again.stderr);
    assert.doesNotMatch(again.stdout, /org\.osbuild\.sbuild/, 'no build stage ran');
    assert.deepEqual(readdirSync(join(dir.path, 'hello-again')).sort(), names);
  });

  it('builds a local source tree with a quilt patch; the program behaves as patched', (t) => {
    if (skip) return t.skip(skip);
    const tree = greetSource(join(dir.path, 'src'));
    const out = join(dir.path, 'greet');
    const r = sbuild(tree, out);
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    const deb = join(out, 'forge-greet_1.0-1_all.deb');
    const root = join(dir.path, 'greet-root');
    const x = spawnSync('dpkg-deb', ['-x', deb, root], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    assert.equal(spawnSync(join(root, 'usr/bin/greet'), { encoding: 'utf8' }).stdout, 'hello, patched\n');
  });

  it('names an unknown source, a path that is no source, a missing build dependency; a failing build ends with its log', (t) => {
    if (skip) return t.skip(skip);
    const r = sbuild('forge-no-such-source', join(dir.path, 'none'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown source package 'forge-no-such-source' in debian-12: .*\[FORGE_ERR_APT_/s);
    const notSource = sbuild(join(dir.path, 'src/forge-greet-1.0/debian'), join(dir.path, 'none'));
    assert.equal(notSource.status, 1);
    assert.match(notSource.stderr, /is not a source package.*\[FORGE_ERR_COMPOSE_LOCAL_SOURCE\]/);
    const needy = greetSource(join(dir.path, 'needy'), {
      buildDepends: 'debhelper-compat (= 13), forge-missing-dependency (>= 1)',
    });
    const unmet = sbuild(needy, join(dir.path, 'none'));
    assert.equal(unmet.status, 1);
    assert.match(unmet.stderr, /build dependencies of forge-greet 1\.0-1 cannot be satisfied on debian-12/);
    assert.match(unmet.stderr, /forge-missing-dependency/);
    // hello's build dependencies: the stored environment, so only the failing build runs.
    const failing = greetSource(join(dir.path, 'failing'), {
      rules: '#!/usr/bin/make -f\n%:\n\t@echo "forge test: this build fails on purpose"; exit 1\n',
    });
    const failed = sbuild(failing, join(dir.path, 'failed'));
    assert.equal(failed.status, 1);
    assert.match(
      failed.stderr,
      /the build of forge-greet 1\.0-1 failed in org\.osbuild\.sbuild of pipeline debs; its output ends:\n(.*\n)*.*forge test: this build fails on purpose/,
    );
    assert.deepEqual(readdirSync(join(dir.path, 'failed')), [], 'nothing written');
  });
});
