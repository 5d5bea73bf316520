/**
 * Debian's `hello` built from the archive's source through a whole manifest made by
 * @debian-forge/composer's sbuildPipelines: the build environment resolved by apt from hello's
 * Build-Depends (sbuild-env), the source unpacked from the pinned .dsc (source), and
 * org.osbuild.sbuild building it (debs), run by `forge build` in the sandbox. The .deb is unpacked
 * and its binary run; a build on an empty store and a fresh debs pipeline over the stored
 * environment give the same .deb bytes;
 * a debian/rules that exits 1 fails the stage with the log's tail; a build dependency the
 * environment lacks is named before the build, and one the archive lacks when the manifest is made.
 *
 * Slow (the environment is ~130 packages; the build a minute): run with
 * FORGE_TEST_STATE_DIR=/var/tmp/forge-… to keep apt roots and the store between runs. The source
 * epoch is the one a compose takes (the newest release file's date), so a compose of hello with the
 * host's tools (test/compose-source-packages.test.ts) finds this environment in the same store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AptError,
  AptErrorCode,
  debianRepositories,
  debianSourceRepositories,
  hostDebianProblem,
  openRoot,
  type ResolvedSource,
  resolveSource,
} from '@debian-forge/apt';
import {
  aptResolver,
  ComposerError,
  ComposerErrorCode,
  getDistro,
  makeSbuildManifest,
  type PipelineDesc,
  sbuildPipelines,
} from '@debian-forge/composer';
import { DEFAULT_CACHE_MAX_SIZE } from '@debian-forge/engine';
import type { ManifestV2 } from '@debian-forge/manifest';
import { forge, LIBDIR, sandboxUnavailable, sharedStateDir, tempDir, writeJson } from './engine.fixture.ts';

let skip = sandboxUnavailable() ?? hostDebianProblem();
const distro = getDistro('debian-12') ?? assert.fail('debian-12');

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** An inline source item and its reference, for a file the test writes into a source tree. */
function inline(text: string): [string, { encoding: 'base64'; data: string }] {
  const ref = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  return [ref, { encoding: 'base64', data: Buffer.from(text).toString('base64') }];
}

/**
 * A pipeline `name` that is hello's source with `file` (in debian/) replaced by `text`, and one
 * `debs-<name>` building it in the same environment.
 */
function patched(
  manifest: ManifestV2,
  name: string,
  file: string,
  text: string,
  mode: string,
): PipelineDesc[] {
  const source = manifest.pipelines.find((p) => p.name === 'source') as PipelineDesc;
  const debs = manifest.pipelines.find((p) => p.name === 'debs') as PipelineDesc;
  const [ref, item] = inline(text);
  const sources = manifest.sources ?? {};
  manifest.sources = sources;
  sources['org.osbuild.inline'] = sources['org.osbuild.inline'] ?? { items: {} };
  const items = sources['org.osbuild.inline'].items as Record<string, unknown>;
  items[ref] = item;
  const path = `/build/hello-2.10/debian/${file}`;
  return [
    {
      ...source,
      name,
      stages: [
        ...source.stages,
        {
          type: 'org.osbuild.copy',
          inputs: { file: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [ref] } },
          options: {
            paths: [{ from: `input://file/${ref}`, to: `tree://${path}`, remove_destination: true }],
          },
        },
        { type: 'org.osbuild.chmod', options: { items: { [path]: { mode } } } },
      ],
    },
    {
      ...debs,
      name: `debs-${name}`,
      stages: (debs.stages ?? []).map((s) => ({
        ...s,
        inputs: {
          ...s.inputs,
          source: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: [`name:${name}`] },
        },
      })),
    },
  ];
}

describe('org.osbuild.sbuild builds Debian’s hello from the archive’s source', () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  let hello: ResolvedSource;
  let manifest: ManifestV2;
  let sourceEpoch: number;
  const resolver = () => aptResolver(state);

  before(async () => {
    dir = tempDir('forge-sbuild-');
    state = sharedStateDir(join(dir.path, 'state'));
    if (skip) return;
    try {
      const root = await openRoot({ stateDir: state, repositories: debianSourceRepositories(distro.suite) });
      hello = await resolveSource(root, { name: 'hello' });
      sourceEpoch = await resolver().releaseEpoch('amd64', debianRepositories(distro.suite));
      const t0 = performance.now();
      ({ manifest } = await makeSbuildManifest(
        { distro, source: hello, repositories: debianRepositories(distro.suite), sourceEpoch },
        resolver(),
      ));
      process.stdout.write(`# manifest made in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      if (!(err instanceof AptError && err.code === AptErrorCode.Update)) throw err;
      skip = `the host's Debian mirror cannot be reached: ${err.message}`;
    }
  });
  after(() => dir.cleanup());

  const build = (m: ManifestV2, exports: string[], out: string, store = join(state, 'store')) => {
    const file = writeJson(join(dir.path, `${exports.join('-')}.json`), m);
    const t0 = performance.now();
    const r = forge([
      'build',
      file,
      '--libdir',
      LIBDIR,
      '--store',
      store,
      ...exports.flatMap((e) => ['--export', e]),
      // As a compose keeps its layers: the environment and the source stay in the store, with the
      // bound a compose gives the shared store (another test finds that bound recorded there).
      ...['--checkpoint', 'sbuild-env', '--checkpoint', 'source'],
      ...['--cache-max-size', String(DEFAULT_CACHE_MAX_SIZE)],
      '--output-directory',
      out,
    ]);
    return { ...r, seconds: (performance.now() - t0) / 1000 };
  };

  let deb: string;

  it('builds the .deb, .buildinfo, .changes and log; the binary runs', (t) => {
    if (skip) return t.skip(skip);
    const r = build(manifest, ['debs'], join(dir.path, 'out'));
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    t.diagnostic(`forge build (environment, source, debs as the store has them): ${r.seconds.toFixed(0)} s`);
    const out = join(dir.path, 'out/debs');
    const names = readdirSync(out).sort();
    const stem = `hello_${hello.version}_amd64`;
    for (const n of [`${stem}.deb`, `${stem}.buildinfo`, `${stem}.changes`, `${stem}.build`]) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    deb = join(out, `${stem}.deb`);
    const buildinfo = readFileSync(join(out, `${stem}.buildinfo`), 'utf8');
    assert.match(buildinfo, /^Build-Path: \/build\/reproducible-path\/hello-2\.10$/m);
    assert.match(
      buildinfo,
      /^Installed-Build-Depends:\n(.*\n)* debhelper \(= /m,
      'from the environment’s dpkg database',
    );
    assert.match(buildinfo, /^ SOURCE_DATE_EPOCH="\d+"$/m);
    assert.match(buildinfo, /^Build-Origin: Debian$/m, 'the environment’s dpkg origins');
    assert.match(
      readFileSync(join(out, `${stem}.build`), 'utf8'),
      /dpkg-buildpackage --sanitize-env -us -uc -b -rfakeroot/,
    );

    const root = join(dir.path, 'installed');
    const x = spawnSyncText('dpkg-deb', ['-x', deb, root]);
    assert.equal(x.status, 0, x.stderr);
    const run = spawnSyncText(join(root, 'usr/bin/hello'), []);
    assert.equal(run.stdout, 'Hello, world!\n');
    const info = spawnSyncText('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture']);
    assert.equal(info.stdout, `Package: hello\nVersion: ${hello.version}\nArchitecture: amd64\n`);
  });

  it('gives the same .deb bytes from a build on an empty store', (t) => {
    if (skip || !deb) return t.skip(skip ?? 'no first build');
    const r = build(manifest, ['debs'], join(dir.path, 'cold'), join(dir.path, 'empty-store'));
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    t.diagnostic(`cold build (environment, source and debs on an empty store): ${r.seconds.toFixed(0)} s`);
    const second = join(dir.path, 'cold/debs', `hello_${hello.version}_amd64.deb`);
    assert.equal(sha256(second), sha256(deb));
  });

  it('gives the same .deb bytes from a fresh debs pipeline over the stored environment', (t) => {
    if (skip || !deb) return t.skip(skip ?? 'no first build');
    // Another source epoch makes another pipeline id (the stage takes its epoch from the changelog).
    const again = structuredClone(manifest);
    for (const p of again.pipelines) if (p.name === 'debs') p['source-epoch'] = sourceEpoch + 1;
    const r = build(again, ['debs'], join(dir.path, 'again'));
    assert.equal(r.status, 0, r.stdout.slice(-6000) + r.stderr);
    assert.match(r.stdout, /\] org\.osbuild\.sbuild: /, 'the build stage ran');
    assert.doesNotMatch(r.stdout, /\] org\.osbuild\.debootstrap: /, 'the environment came from the store');
    t.diagnostic(`warm build (only debs built; environment and source stored): ${r.seconds.toFixed(0)} s`);
    const second = join(dir.path, 'again/debs', `hello_${hello.version}_amd64.deb`);
    assert.equal(sha256(second), sha256(deb));
  });

  it('fails a build whose debian/rules exits 1 with the log’s tail in the error', (t) => {
    if (skip) return t.skip(skip);
    const m = structuredClone(manifest);
    const rules = '#!/usr/bin/make -f\n%:\n\t@echo "forge test: this build fails on purpose"; exit 1\n';
    m.pipelines.push(...patched(m, 'broken-source', 'rules', rules, '0755'));
    const r = build(m, ['debs-broken-source'], join(dir.path, 'broken'));
    assert.notEqual(r.status, 0);
    const said = r.stdout + r.stderr;
    assert.match(
      said,
      /error: the build of hello [^ ]+ failed \(dpkg-buildpackage: exit status 2\); the log ends:\n(.*\n)*.*forge test: this build fails on purpose/,
    );
    assert.ok(!existsSync(join(dir.path, 'broken/debs-broken-source')), 'nothing exported');
  });

  it('names a build dependency the environment lacks, before building', (t) => {
    if (skip) return t.skip(skip);
    const m = structuredClone(manifest);
    const control = [
      'Source: hello',
      'Maintainer: Forge Test <forge@example.org>',
      'Build-Depends: debhelper-compat (= 13), help2man, texinfo, forge-missing-dependency (>= 1)',
      '',
      'Package: hello',
      'Architecture: any',
      'Description: the hello of the archive, with one build dependency more',
      '',
    ].join('\n');
    m.pipelines.push(...patched(m, 'needy-source', 'control', control, '0644'));
    const r = build(m, ['debs-needy-source'], join(dir.path, 'needy'));
    assert.notEqual(r.status, 0);
    assert.match(
      r.stdout + r.stderr,
      /error: hello [^ ]+ cannot be built in this environment: Unmet build dependencies: forge-missing-dependency \(>= 1\)/,
    );
  });

  it('names a build dependency the archive lacks when the manifest is made', async (t) => {
    if (skip) return t.skip(skip);
    const needy: ResolvedSource = {
      ...hello,
      buildRelations: {
        ...hello.buildRelations,
        'Build-Depends-Indep': 'forge-missing-dependency (>= 1) | forge-other-missing',
      },
    };
    const request = {
      distro,
      source: needy,
      repositories: debianRepositories(distro.suite),
      sourceEpoch,
    };
    await assert.rejects(sbuildPipelines(request, resolver()), (err: unknown) => {
      assert.ok(err instanceof ComposerError, String(err));
      assert.equal(err.code, ComposerErrorCode.BuildDepends);
      assert.match(err.message, /build dependencies of hello .* cannot be satisfied on debian-12/);
      assert.match(err.message, /forge-missing-dependency \(>= 1\) but it is not installable/);
      return true;
    });
    // Build-Depends-Indep is not read for an arch-any build, as sbuild reads it.
    const anyOnly = await sbuildPipelines({ ...request, options: { 'arch-all': false } }, resolver());
    assert.ok(anyOnly.environment[2]?.some((p) => p.name === 'texinfo'));
  });
});

function spawnSyncText(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}
