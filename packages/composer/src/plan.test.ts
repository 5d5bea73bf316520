import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Repository } from '@debian-forge/apt';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import { planCompose, resolveComposeTarget } from './plan.ts';
import type { LayerRequest, ResolvedPackage } from './types.ts';

const bp = { name: 'base', version: '0.0.1' };

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
  assert.equal(resolveComposeTarget({ blueprint: bp, imageType: 'tar', size: 0 }).imageType.name, 'tar');
});

test("planCompose: host Debian repositories, then extra ones, then the blueprint's; the epoch from the resolver", async () => {
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
    version: '1.0',
    arch: 'amd64',
    url: `http://mirror.invalid/debian/pool/${name}.deb`,
    sha256: name
      .padEnd(64, '0')
      .replace(/[^0-9a-f]/g, 'a')
      .slice(0, 64),
    size: 1,
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
  };
  const plan = await planCompose(
    {
      blueprint: {
        ...bp,
        distro: 'debian-13',
        customizations: { repositories: [{ id: 'own', uri: 'http://own.invalid/debian', trusted: true }] },
      },
      imageType: 'tar',
    },
    { resolver, hostRepositories: host, extraRepositories: [extra] },
  );
  assert.equal(plan.distro.name, 'debian-13');
  assert.equal(plan.imageType.name, 'tar');
  const repos = seen[0] as Repository[];
  assert.deepEqual(
    repos.map((r) => r.id),
    ['debian.sources#1', 'extra', 'blueprint-own'],
  );
  assert.deepEqual(repos[0]?.suites, ['trixie', 'trixie-updates']);
  assert.equal((plan.manifest as { version: string }).version, '2');
  assert.match(JSON.stringify(plan.manifest), /1700000000/);
});
