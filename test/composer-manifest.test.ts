/**
 * Manifests the composer generates are valid for the engine — every stage's options checked
 * against the schema in the built libdir — pin every package, are deterministic, and put a
 * blueprint's packages in the last layer only; they are built in a `build` pipeline holding the
 * tools of their stages, unless asked to use the host's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateBlueprint } from '@debian-forge/blueprint';
import {
  ComposerError,
  getDistro,
  getImageType,
  type LayerRequest,
  listImageTypes,
  makeManifest,
  type PackageResolver,
  packageSpec,
  type Repository,
  type ResolvedPackage,
  STAGE_TOOLS,
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
          filename: `${name}_1.0-1_${arch}.deb`,
          sha256,
          size: 1000,
          repository: 'debian',
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

const blueprint = validateBlueprint({
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
});

describe('composer manifests', () => {
  for (const type of ['tar', 'qcow2', 'raw', 'debian-atomic-commit', 'debian-atomic-qcow2']) {
    it(`${type}: valid for the engine's stages, every package pinned`, async () => {
      const imageType = getImageType(type);
      assert.ok(distro && imageType);
      const { manifest, layers, buildPackages } = await makeManifest(
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
      const packages = [...layers.flat(), ...buildPackages.flat()];
      assert.equal(Object.keys(curl?.items ?? {}).length, new Set(packages.map((p) => p.sha256)).size);
      for (const p of packages) assert.equal(curl?.items[`sha256:${p.sha256}`], p.url);

      // The build root: first, built with the host's tools, named by every other pipeline.
      const [build, ...others] = loaded.pipelines;
      assert.equal(build?.name, 'build');
      assert.equal(build?.build, null);
      assert.equal(build?.runner, 'org.osbuild.debian12');
      assert.deepEqual(
        build?.stages.map((s) => s.type),
        ['org.osbuild.debootstrap', 'org.osbuild.apt', 'org.osbuild.apt'],
      );
      for (const p of others) assert.equal(p.build, build?.id, p.name);
      const tools = buildPackages.flat().map((p) => p.name);
      for (const t of ['nodejs', 'mmdebstrap', 'apt-utils', 'bubblewrap', 'passwd'])
        assert.ok(tools.includes(t), t);
      const types = new Set(others.flatMap((p) => p.stages.map((s) => s.type)));
      for (const [type, needs] of Object.entries(STAGE_TOOLS)) {
        for (const t of needs) if (types.has(type)) assert.ok(tools.includes(t), `${type} needs ${t}`);
      }
      // Only the tools of its own stages (and of the types that share its os tree: an atomic
      // commit's build root has the atomic disk's): a tar is made without disk or OSTree tools.
      assert.equal(
        tools.includes('qemu-utils'),
        types.has('org.osbuild.qemu') || type === 'debian-atomic-commit',
      );
      assert.equal(
        tools.includes('ostree'),
        [...types].some((t) => t.startsWith('org.osbuild.ostree.')),
      );
      // The image's package lists hold none of them unless the image asked for it.
      const image = new Set(layers.flat().map((p) => p.name));
      assert.ok(!image.has('mmdebstrap') && !image.has('nodejs'));
    });
  }

  it("with the host's build root: no build pipeline, no build packages", async () => {
    const imageType = getImageType('qcow2');
    assert.ok(distro && imageType);
    const req = { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 };
    const host = await makeManifest({ ...req, hostBuildRoot: true }, catalogue);
    assert.deepEqual(validateManifest(host.manifest, { index }).errors, []);
    assert.deepEqual(host.buildPackages, []);
    const pipelines = loadManifest(host.manifest, { index }).pipelines;
    assert.deepEqual(
      pipelines.map((p) => [p.name, p.build]),
      [
        ['os', null],
        ['image', null],
        ['qcow2', null],
      ],
    );
    const curl = host.manifest.sources['org.osbuild.curl']?.items ?? {};
    assert.equal(Object.keys(curl).length, host.layers.flat().length);
    // The same stages as with the build root, which changes the ids only.
    const own = loadManifest((await makeManifest(req, catalogue)).manifest, { index }).pipelines.slice(1);
    assert.deepEqual(
      own.map((p) => p.stages.map((s) => [s.type, s.options])),
      pipelines.map((p) => p.stages.map((s) => [s.type, s.options])),
    );
    assert.notEqual(own[0]?.id, pipelines[0]?.id);
  });

  it("shares the build root's first layers between image types, and its tool layer per tool set", async () => {
    assert.ok(distro);
    const stages = async (type: string) => {
      const imageType = getImageType(type);
      assert.ok(imageType);
      const { manifest } = await makeManifest(
        { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 },
        catalogue,
      );
      return loadManifest(manifest, { index }).pipelines[0]?.stages.map((s) => s.id) ?? [];
    };
    const [tar, qcow2, raw] = [await stages('tar'), await stages('qcow2'), await stages('raw')];
    assert.deepEqual(tar.slice(0, 2), qcow2.slice(0, 2));
    assert.deepEqual(raw.slice(0, 2), qcow2.slice(0, 2));
    assert.notEqual(tar[2], raw[2]);
    assert.notEqual(raw[2], qcow2[2], 'only qcow2 runs qemu-img');
  });

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

  it('packages on a host whose TLS checks a repository turned off are fetched with curl insecure', async () => {
    const imageType = getImageType('tar');
    assert.ok(distro && imageType);
    // curl from the https host without checks, bash from another https host, the rest over http.
    const hosts: Record<string, string> = {
      curl: 'https://insecure.invalid',
      bash: 'https://checked.invalid',
    };
    const resolver: PackageResolver = {
      async resolveLayers(suite, arch, repos, layers) {
        const layered = await catalogue.resolveLayers(suite, arch, repos, layers);
        return layered.map((debs) =>
          debs.map((d) => ({ ...d, url: d.url.replace('http://repo.invalid', hosts[d.name] ?? '$&') })),
        );
      },
    };
    const insecure: Repository = {
      id: 'mine',
      types: ['deb'],
      uris: ['https://insecure.invalid/debian'],
      suites: ['bookworm'],
      components: ['main'],
      verifyTls: false,
    };
    const { manifest, layers } = await makeManifest(
      { blueprint, distro, imageType, repositories: [...repositories, insecure], sourceEpoch: 1700000000 },
      resolver,
    );
    assert.deepEqual(validateManifest(manifest, { index }).errors, []);
    const items = (manifest.sources as Record<string, { items: Record<string, unknown> }>)['org.osbuild.curl']
      ?.items;
    const item = (name: string) => {
      const p = layers.flat().find((x) => x.name === name);
      assert.ok(p, name);
      return items?.[`sha256:${p.sha256}`];
    };
    assert.deepEqual(item('curl'), {
      url: 'https://insecure.invalid/pool/curl_1.0-1_amd64.deb',
      insecure: true,
    });
    assert.equal(item('bash'), 'https://checked.invalid/pool/bash_1.0-1_amd64.deb');
    assert.equal(item('dpkg'), 'http://repo.invalid/pool/dpkg_1.0-1_amd64.deb');
    // The image's apt skips the same checks for that host, and only for it.
    const config = stagesOf(manifest, 'os').find((st) => st.type === 'org.osbuild.apt.config');
    assert.deepEqual(config?.options?.config, {
      'forge-tls': {
        'Acquire::https::insecure.invalid::Verify-Peer': false,
        'Acquire::https::insecure.invalid::Verify-Host': false,
      },
    });
    const plain = await makeManifest(
      { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 },
      resolver,
    );
    const plainConfig = stagesOf(plain.manifest, 'os').find((st) => st.type === 'org.osbuild.apt.config');
    assert.equal(plainConfig?.options?.config, undefined);
  });

  it('turns blueprint versions into apt package specs', () => {
    assert.equal(packageSpec({ name: 'curl' }), 'curl');
    assert.equal(packageSpec({ name: 'curl', version: '*' }), 'curl');
    assert.equal(packageSpec({ name: 'curl', version: '7.88.1-10+deb12u5' }), 'curl=7.88.1-10+deb12u5');
    assert.equal(packageSpec({ name: 'curl', version: '>=7.0' }), 'curl (>= 7.0)');
  });

  const stagesOf = (manifest: Record<string, unknown>, name: string) =>
    (
      manifest.pipelines as { name: string; stages: { type: string; options?: Record<string, unknown> }[] }[]
    ).find((p) => p.name === name)?.stages ?? [];

  it('debian-atomic-commit: edge-commit pipelines, the ref, parent and version of the commit', async () => {
    const imageType = getImageType('debian-atomic-commit');
    assert.ok(distro && imageType);
    const parent = 'a'.repeat(64);
    const req = { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 };
    const { manifest, layers, ostreeRef } = await makeManifest(req, catalogue);
    const packages = layers.flat();
    const loaded = loadManifest(manifest, { index });
    assert.deepEqual(
      loaded.pipelines.map((p) => p.name),
      ['build', 'os', 'ostree-commit', 'commit-archive'],
    );
    assert.equal(ostreeRef, 'debian/12/x86_64/atomic');
    const names = packages.map((p) => p.name);
    for (const p of [
      'linux-image-amd64',
      'dracut',
      'ostree',
      'ostree-boot',
      'systemd-sysv',
      'openssh-server',
    ]) {
      assert.ok(names.includes(p), p);
    }
    assert.ok(!names.includes('initramfs-tools'));
    assert.equal(stagesOf(manifest, 'os').at(-1)?.type, 'org.osbuild.ostree.preptree');
    const commit = stagesOf(manifest, 'ostree-commit').find((s) => s.type === 'org.osbuild.ostree.commit');
    assert.deepEqual(commit?.options, { ref: 'debian/12/x86_64/atomic', os_version: '12' });
    assert.deepEqual(stagesOf(manifest, 'commit-archive')[0]?.options, { filename: 'commit.tar' });

    const child = await makeManifest({ ...req, ostree: { ref: 'forge/v', parent } }, catalogue);
    const childCommit = stagesOf(child.manifest, 'ostree-commit').find(
      (s) => s.type === 'org.osbuild.ostree.commit',
    );
    assert.deepEqual(childCommit?.options, { ref: 'forge/v', os_version: '12', parent });
    // Only the commit changes: the os tree is the same, so a store builds it once.
    const a = loadManifest(manifest, { index }).pipelines;
    const b = loadManifest(child.manifest, { index }).pipelines;
    assert.equal(a[1]?.id, b[1]?.id);
    assert.notEqual(a[2]?.id, b[2]?.id);
  });

  it('debian-atomic-qcow2: the commit of the same os tree, deployed with the remote, on the GPT disk', async () => {
    const qcow2 = getImageType('debian-atomic-qcow2');
    const commitType = getImageType('debian-atomic-commit');
    assert.ok(distro && qcow2 && commitType);
    const ostree = { url: 'http://10.0.2.2:8000/repo' };
    const req = { blueprint, distro, repositories, sourceEpoch: 1700000000, ostree };
    const { manifest } = await makeManifest({ ...req, imageType: qcow2 }, catalogue);
    const loaded = loadManifest(manifest, { index });
    assert.deepEqual(
      loaded.pipelines.map((p) => p.name),
      ['build', 'os', 'ostree-commit', 'ostree-deployment', 'image', 'qcow2'],
    );
    const commit = (await makeManifest({ ...req, imageType: commitType }, catalogue)).manifest;
    // The same os tree and commit in one build root (the disk's tools and the commit's), so the
    // object store holds them once for both types.
    const ids = (m: typeof manifest) =>
      new Map(loadManifest(m, { index }).pipelines.map((p) => [p.name, p.id]));
    const [disk, archive] = [ids(manifest), ids(commit)];
    for (const name of ['build', 'os', 'ostree-commit']) {
      assert.deepEqual(stagesOf(manifest, name), stagesOf(commit, name));
      assert.equal(disk.get(name), archive.get(name), name);
    }
    const deployment = stagesOf(manifest, 'ostree-deployment');
    assert.deepEqual(
      deployment.map((s) => s.type),
      [
        'org.osbuild.ostree.init-fs',
        'org.osbuild.ostree.os-init',
        'org.osbuild.ostree.config',
        'org.osbuild.ostree.remotes',
        'org.osbuild.ostree.deploy',
        'org.osbuild.ostree.grub2.config',
        'org.osbuild.ostree.config',
      ],
    );
    assert.deepEqual(deployment[3]?.options, {
      repo: '/ostree/repo',
      remotes: [{ name: 'debian', url: 'http://10.0.2.2:8000/repo' }],
    });
    const deploy = deployment[4]?.options as { osname: string; remote: string; rootfs: { uuid: string } };
    assert.equal(deploy.osname, 'debian');
    assert.equal(deploy.remote, 'debian');
    assert.deepEqual(deployment[6]?.options, {
      repo: '/ostree/repo',
      config: { sysroot: { bootloader: 'grub2' } },
    });
    const copy = stagesOf(manifest, 'image').find((s) => s.type === 'org.osbuild.copy') as unknown as {
      inputs: { 'root-tree': { references: string[] } };
    };
    assert.deepEqual(copy.inputs['root-tree'].references, ['name:ostree-deployment']);
    const mkfs = stagesOf(manifest, 'image').find((s) => s.type === 'org.osbuild.mkfs.ext4');
    assert.equal(mkfs?.options?.uuid, deploy.rootfs.uuid);
  });

  it('refuses bad OSTree options, and OSTree options for a type without a commit', async () => {
    const imageType = getImageType('debian-atomic-commit');
    const tar = getImageType('tar');
    assert.ok(distro && imageType && tar);
    const req = { blueprint, distro, imageType, repositories, sourceEpoch: 1700000000 };
    for (const ostree of [{ ref: '/bad ref' }, { parent: 'abc' }, { url: 'ftp://example.invalid/' }]) {
      await assert.rejects(makeManifest({ ...req, ostree }, catalogue), (err: unknown) => {
        assert.ok(err instanceof ComposerError);
        assert.equal(err.code, 'FORGE_ERR_COMPOSE_OSTREE');
        return true;
      });
    }
    await assert.rejects(
      makeManifest({ ...req, imageType: tar, ostree: { ref: 'a/b' } }, catalogue),
      /no OSTree commit/,
    );
  });

  it('lists the image types with file names, MIME types, exports and OSTree refs', () => {
    assert.ok(distro);
    const types = listImageTypes(distro);
    const byName = new Map(types.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('debian-atomic-commit'), {
      name: 'debian-atomic-commit',
      description: byName.get('debian-atomic-commit')?.description,
      filename: 'commit.tar',
      mimeType: 'application/x-tar',
      exports: ['commit-archive'],
      bootable: false,
      defaultSize: 0,
      ostree: true,
      defaultOstreeRef: 'debian/12/x86_64/atomic',
    });
    const qcow2 = byName.get('debian-atomic-qcow2');
    assert.deepEqual(
      [qcow2?.filename, qcow2?.mimeType, qcow2?.exports, qcow2?.ostree],
      ['disk.qcow2', 'application/x-qemu-disk', ['qcow2'], true],
    );
    assert.equal(byName.get('qcow2')?.ostree, false);
    assert.equal(byName.get('tar')?.filename, 'root.tar');
    assert.equal(
      listImageTypes(getDistro('debian-13') as never)[3]?.defaultOstreeRef,
      'debian/13/x86_64/atomic',
    );
    assert.deepEqual(listImageTypes(distro, 'aarch64'), []);
  });
});
