import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostDebianProblem, type Repository } from '@debian-forge/apt';
import { validateBlueprint } from '@debian-forge/blueprint';
import { aptResolver } from './apt-resolver.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import { CHECKPOINTS, planCompose, planPackages, resolveComposeTarget } from './plan.ts';
import type { LayerRequest, ResolvedPackage } from './types.ts';

const bp = validateBlueprint({ name: 'base', version: '0.0.1' });

test('resolveComposeTarget: defaults and each refusal with its code', () => {
  const ok = resolveComposeTarget({ blueprint: bp, imageType: 'tar' });
  assert.equal(ok.distro.name, 'debian-12');
  assert.equal(ok.arch, 'x86_64');
  assert.equal(
    resolveComposeTarget({ blueprint: { ...bp, distro: 'debian-13' }, imageType: 'tar' }).distro.name,
    'debian-13',
  );
  const refused = (target: Parameters<typeof resolveComposeTarget>[0], code: string) =>
    assert.throws(
      () => resolveComposeTarget(target),
      (e: unknown) => e instanceof ComposerError && e.code === code,
    );
  refused({ blueprint: bp, imageType: 'nope' }, ComposerErrorCode.ImageType);
  refused({ blueprint: bp, imageType: 'tar', distro: 'fedora-40' }, ComposerErrorCode.Distro);
  refused({ blueprint: bp, imageType: 'tar', arch: 's390x' }, ComposerErrorCode.Arch);
  refused({ blueprint: bp, imageType: 'tar', size: 1 << 30 }, ComposerErrorCode.Size);
  refused({ blueprint: bp, imageType: 'tar', ostree: { ref: 'a/b' } }, ComposerErrorCode.Ostree);
  const tar = resolveComposeTarget({
    blueprint: bp,
    imageType: 'tar',
    size: 0,
    ostree: { ref: '', url: '' },
  });
  assert.equal(tar.size, undefined, "0 is the image type's size");
  assert.deepEqual(tar.ostree, {}, 'empty OSTree options are none');
});

test("planCompose: host Debian repositories, then extra ones, then the blueprint's (the build root's: Debian's only); the epoch from the resolver", async () => {
  const host: Repository[] = [
    {
      id: 'debian.sources#1',
      types: ['deb'],
      uris: ['http://mirror.invalid/debian'],
      suites: ['bookworm', 'bookworm-updates'],
      components: ['main'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    },
  ];
  const extra: Repository = {
    id: 'extra',
    types: ['deb'],
    uris: ['http://extra.invalid/debian'],
    suites: ['trixie'],
    components: ['main'],
    trusted: true,
  };
  const seen: Repository[][] = [];
  const fakeDeb = (name: string): ResolvedPackage => ({
    name,
    version: '1:1.0-2',
    arch: 'amd64',
    url: `http://mirror.invalid/debian/pool/${name}.deb`,
    filename: `${name}.deb`,
    sha256: name
      .padEnd(64, '0')
      .replace(/[^0-9a-f]/g, 'a')
      .slice(0, 64),
    size: 1,
    repository: 'debian.sources#1',
  });
  const resolver = {
    async resolveLayers(_suite: string, _arch: string, repositories: Repository[], layers: LayerRequest[]) {
      seen.push(repositories);
      return layers.map((l) => l.packages.map((p) => fakeDeb(p.split(/[ =(]/)[0] as string)));
    },
    async releaseEpoch(arch: string, repositories: Repository[]) {
      assert.equal(arch, 'amd64');
      seen.push(repositories);
      return 1_700_000_000;
    },
    resolveSource: () => assert.fail('the blueprint has no source packages'),
    sourceBinaries: () => assert.fail('the blueprint has no source packages'),
  };
  const target = resolveComposeTarget({
    blueprint: validateBlueprint({
      ...bp,
      distro: 'debian-13',
      customizations: { repositories: [{ id: 'own', uri: 'http://own.invalid/debian', trusted: true }] },
    }),
    imageType: 'tar',
  });
  const plan = await planCompose(target, { resolver, hostRepositories: host, extraRepositories: [extra] });
  const repos = seen[0] as Repository[];
  assert.deepEqual(
    repos.map((r) => r.id),
    ['debian.sources#1', 'extra', 'blueprint-own'],
  );
  assert.deepEqual(repos[0]?.suites, ['trixie', 'trixie-updates']);
  // The image's packages from all of them, the build root's from the distro's only.
  assert.deepEqual(
    seen.map((r) => r.map((x) => x.id)),
    [
      ['debian.sources#1', 'extra', 'blueprint-own'],
      ['debian.sources#1', 'extra', 'blueprint-own'],
      ['debian.sources#1'],
    ],
  );
  assert.equal(plan.manifest.version, '2');
  assert.match(JSON.stringify(plan.manifest), /1700000000/);
  assert.deepEqual(plan.exports, ['archive']);
  assert.deepEqual(plan.artifact, { filename: 'root.tar', mimeType: 'application/x-tar' });
  assert.deepEqual(plan.checkpoints, [...CHECKPOINTS]);
  assert.deepEqual(
    plan.layers.map((l) => l.map((p) => p.name)),
    [['usr-is-merged'], ['systemd-sysv'], []],
  );
  assert.deepEqual(plan.layers[1]?.[0], {
    name: 'systemd-sysv',
    epoch: 1,
    version: '1.0',
    release: '2',
    arch: 'amd64',
    size: 1,
    sha256: fakeDeb('systemd-sysv').sha256,
    repository: 'debian.sources#1',
    url: 'http://mirror.invalid/debian/pool/systemd-sysv.deb',
  });
});

test("planCompose with real apt: each layer's packages as the Packages index has them (names, epochs, sizes, repositories)", {
  skip: hostDebianProblem(),
}, async (t) => {
  const stateDir = process.env.FORGE_TEST_STATE_DIR || mkdtempSync(join(tmpdir(), 'forge-plan-'));
  if (!process.env.FORGE_TEST_STATE_DIR) t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const blueprint = validateBlueprint({ name: 'plan', packages: [{ name: 'tmux' }] });
  const plan = await planCompose(resolveComposeTarget({ blueprint, imageType: 'tar' }), {
    resolver: aptResolver(stateDir),
  });
  assert.equal(plan.layers.length, 3);
  const [base, type, own] = plan.layers.map((l) => new Map(l.map((p) => [p.name, p])));
  // apt's URL has libstdc%2b%2b6_…: the name is the index's, not the file name's.
  assert.ok(base?.has('libstdc++6'), [...(base?.keys() ?? [])].join(' '));
  assert.equal(base?.get('zlib1g')?.epoch, 1, 'zlib1g has an epoch in Debian');
  assert.ok(type?.has('systemd-sysv'));
  assert.ok(own?.has('tmux'));
  const all = planPackages(plan);
  const curl = plan.manifest.sources['org.osbuild.curl']?.items ?? {};
  // The build root's packages are pinned too, but they are not the image's.
  const [build, ...others] = plan.manifest.pipelines;
  assert.equal(build?.name, 'build');
  assert.ok(others.every((p) => p.build === 'name:build'));
  const buildRefs = new Set(
    build?.stages.flatMap(
      (s) => (s.inputs?.packages as { references: string[] } | undefined)?.references ?? [],
    ),
  );
  const imageRefs = new Set(all.map((p) => `sha256:${p.sha256}`));
  assert.equal(imageRefs.size, all.length, 'one pinned file per package');
  assert.deepEqual(
    new Set(Object.keys(curl)),
    new Set([...imageRefs, ...buildRefs]),
    'every pinned file is used',
  );
  assert.ok(!all.some((p) => p.name === 'nodejs' || p.name === 'mmdebstrap'), 'no build tool in the image');
  for (const p of all) {
    assert.ok(p.size > 0, `${p.name}: size`);
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    assert.ok(curl[`sha256:${p.sha256}`], `${p.name}: in the manifest's sources`);
    assert.notEqual(p.repository, '', `${p.name}: repository`);
    assert.doesNotMatch(`${p.version}-${p.release}`, /:/, `${p.name}: the epoch is apart`);
  }
  // adduser is a native package: no Debian revision, so an empty release (not `3.134-`).
  assert.equal(base?.get('adduser')?.release, '');
  assert.match(base?.get('adduser')?.version ?? '', /^\d[^-]*$/);
});
