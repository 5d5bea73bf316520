/**
 * Manifests the composer generates are valid for the engine — every stage's options checked
 * against the schema in the built libdir — pin every package, are deterministic, and put a
 * blueprint's packages in the last layer only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  getDistro,
  getImageType,
  type LayerRequest,
  makeManifest,
  type PackageResolver,
  packageSpec,
  type Repository,
  type ResolvedPackage,
} from '@debian-forge/composer';
import { EngineIndex } from '@debian-forge/engine';
import { LibdirIndex, loadManifest, validateManifest } from '@debian-forge/manifest';
import { DEFAULT_LIBDIR } from '@debian-forge/stages';

/** Resolves each requested name to one made-up package (a fixed catalogue, no apt involved). */
const catalogue: PackageResolver = {
  async resolveLayers(_suite: string, arch: string, _repos: unknown, layers: LayerRequest[]) {
    const seen = new Set<string>();
    return layers.map((layer, i) => {
      const names = [
        ...(i === 0 ? ['base-files', 'dpkg', 'bash'] : []),
        ...layer.packages.map((p) => p.split(/[ =(]/)[0] as string),
      ];
      const out: ResolvedPackage[] = [];
      for (const name of names) {
        if (seen.has(name)) continue;
        seen.add(name);
        const sha256 = Buffer.from(name.padEnd(32, '.')).toString('hex').slice(0, 64);
        out.push({
          name,
          version: '1.0-1',
          arch,
          url: `http://repo.invalid/pool/${name}_1.0-1_${arch}.deb`,
          sha256,
          size: 1000,
        });
      }
      return out;
    });
  },
};

const index = new EngineIndex(new LibdirIndex(DEFAULT_LIBDIR));
const distro = getDistro('debian-12');
const repositories: Repository[] = [
  {
    id: 'debian',
    types: ['deb'],
    uris: ['http://repo.invalid/debian'],
    suites: ['bookworm'],
    components: ['main'],
  },
];

const blueprint = {
  name: 'server',
  version: '0.0.1',
  packages: [{ name: 'openssh-server' }, { name: 'curl', version: '>= 7.0' }],
  customizations: {
    hostname: 'forge-server',
    user: [{ name: 'forge', password: '$6$salt$hash', key: 'ssh-ed25519 AAAA test', groups: ['sudo'] }],
    group: [{ name: 'ops', gid: 2000 }],
    timezone: { timezone: 'Europe/Berlin' },
    locale: { languages: ['en_US.UTF-8'], keyboard: 'us' },
    services: { enabled: ['ssh'] },
    firewall: { ports: ['80:tcp'] },
    kernel: { append: 'quiet' },
    files: [{ path: '/etc/motd', data: 'hello\n', mode: '0644' }],
    directories: [{ path: '/srv/data', mode: '0750', ensure_parents: true }],
  },
};

describe('composer manifests', () => {
  for (const type of ['tar', 'qcow2', 'raw']) {
    it(`${type}: valid for the engine's stages, every package pinned`, async () => {
      const imageType = getImageType(type);
      assert.ok(distro && imageType);
      const { manifest, packages } = await makeManifest(
        { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 },
        catalogue,
      );
      const result = validateManifest(manifest, { index });
      assert.deepEqual(result.errors, []);
      const loaded = loadManifest(manifest, { index });
      assert.ok(loaded.pipelines.some((p) => p.name === imageType.exportPipeline));
      const curl = (manifest.sources as Record<string, { items: Record<string, string> }>)[
        'org.osbuild.curl'
      ];
      assert.equal(Object.keys(curl?.items ?? {}).length, packages.length);
      for (const p of packages) assert.equal(curl?.items[`sha256:${p.sha256}`], p.url);
    });
  }

  it('is deterministic, and a new blueprint package changes only the last package layer and after', async () => {
    const imageType = getImageType('qcow2');
    assert.ok(distro && imageType);
    const req = { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 };
    const a = loadManifest((await makeManifest(req, catalogue)).manifest, { index });
    const b = loadManifest((await makeManifest(req, catalogue)).manifest, { index });
    assert.deepEqual(
      a.pipelines.map((p) => p.id),
      b.pipelines.map((p) => p.id),
    );
    const more = { ...req, blueprint: { ...blueprint, packages: [...blueprint.packages, { name: 'htop' }] } };
    const c = loadManifest((await makeManifest(more, catalogue)).manifest, { index });
    const osA = a.pipelines.find((p) => p.name === 'os')?.stages ?? [];
    const osC = c.pipelines.find((p) => p.name === 'os')?.stages ?? [];
    const firstChanged = osA.findIndex((s, i) => s.id !== osC[i]?.id);
    assert.equal(osA[firstChanged]?.type, 'org.osbuild.apt');
    assert.equal(osA.filter((s) => s.type === 'org.osbuild.apt').indexOf(osA[firstChanged] as never), 1);
  });

  it('turns blueprint versions into apt package specs', () => {
    assert.equal(packageSpec({ name: 'curl' }), 'curl');
    assert.equal(packageSpec({ name: 'curl', version: '*' }), 'curl');
    assert.equal(packageSpec({ name: 'curl', version: '7.88.1-10+deb12u5' }), 'curl=7.88.1-10+deb12u5');
    assert.equal(packageSpec({ name: 'curl', version: '>=7.0' }), 'curl (>= 7.0)');
  });
});
