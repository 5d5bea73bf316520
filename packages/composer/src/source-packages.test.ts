/**
 * How a blueprint's source packages are planned, over a made-up archive: what is installed (the
 * `install` names, else every binary for the architecture but -dbgsym), which runtime relations
 * are left to apt (none naming a binary built here), pipeline names that stay apart for two
 * entries of one source, and the install stage that takes the built trees. Local sources (`path`)
 * are real trees and .dscs made by dpkg-source, their binaries read from their own files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PackageRecord, Repository, ResolvedSource } from '@debian-forge/apt';
import { validateBlueprint } from '@debian-forge/blueprint';
import { run, which } from '@debian-forge/host';
import { getDistro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import {
  installBuiltStage,
  resolveSourceBuilds,
  type SourceResolver,
  sourceCheckpoints,
} from './source-packages.ts';

const distro = getDistro('debian-12') ?? assert.fail('debian-12');
const HOST: Repository[] = [
  {
    id: 'host',
    types: ['deb'],
    uris: ['http://mirror.invalid/debian'],
    suites: ['bookworm'],
    components: ['main'],
  },
];

function source(name: string, binaries: string[]): ResolvedSource {
  const file = {
    filename: `${name}_1.0-1.dsc`,
    url: 'http://mirror.invalid/x.dsc',
    sha256: 'a'.repeat(64),
    size: 1,
  };
  return {
    name,
    version: '1.0-1',
    format: '3.0 (quilt)',
    dsc: file,
    files: [],
    binaries,
    architecture: 'any all',
    buildRelations: {},
    repository: 'host',
  };
}

function record(name: string, fields: Partial<PackageRecord>): PackageRecord {
  return {
    name,
    version: '1.0-1',
    architecture: 'amd64',
    depends: '',
    preDepends: '',
    ...fields,
  } as PackageRecord;
}

/** libfoo: libfoo1 (needs libc6 and zlib1g), libfoo-dev (needs libfoo1 and the other source's tool), foo-dbgsym. */
const ARCHIVE: Record<string, { source: ResolvedSource; records: PackageRecord[] }> = {
  libfoo: {
    source: source('libfoo', ['libfoo1', 'libfoo-dev', 'libfoo1-dbgsym']),
    records: [
      record('libfoo1', { depends: 'libc6 (>= 2.34), zlib1g (>= 1:1.2)' }),
      record('libfoo-dev', {
        depends: 'libfoo1 (= 1.0-1), footool | other-tool',
        preDepends: 'dpkg (>= 1.17)',
        architecture: 'all',
      }),
      record('libfoo1-dbgsym', { depends: 'libfoo1 (= 1.0-1)' }),
    ],
  },
  footool: {
    source: source('footool', ['footool']),
    records: [record('footool', { depends: 'libc6, libfoo1' })],
  },
};

const resolver: SourceResolver = {
  async resolveSource(arch, repositories, request) {
    assert.equal(arch, 'amd64');
    assert.deepEqual(
      repositories.map((r) => r.types),
      [['deb-src']],
      'sources come from the deb-src entries of the host’s mirror',
    );
    return (ARCHIVE[request.name] ?? assert.fail(`no ${request.name}`)).source;
  },
  async sourceBinaries(_arch, _repositories, s) {
    return (ARCHIVE[s.name] ?? assert.fail(`no ${s.name}`)).records;
  },
};

const work = mkdtempSync(join(tmpdir(), 'forge-source-packages-'));
after(() => rmSync(work, { recursive: true, force: true }));

const plan = (entries: Record<string, unknown>[], localSourceDirs?: string[]) =>
  resolveSourceBuilds(validateBlueprint({ name: 'x', source_packages: entries }), {
    distro,
    debArch: 'amd64',
    repositories: HOST,
    hostRepositories: HOST,
    resolver,
    workDir: work,
    ...(localSourceDirs ? { localSourceDirs } : {}),
  });

/**
 * A native source tree `mytool` 2.0: mytool (any; substvars, a relation on libfoo1 of the archive
 * source and on its own mytool-data), mytool-data (all), mytool-arm (arm64 only), and a comment.
 */
function mytoolTree(): string {
  const tree = join(work, 'mytool-2.0');
  mkdirSync(join(tree, 'debian/source'), { recursive: true });
  writeFileSync(
    join(tree, 'debian/changelog'),
    'mytool (2.0) unstable; urgency=medium\n\n  * Test.\n\n -- Forge Test <test@example.org>  Mon, 07 Dec 2026 12:00:00 +0000\n',
  );
  writeFileSync(join(tree, 'debian/source/format'), '3.0 (native)\n');
  writeFileSync(
    join(tree, 'debian/control'),
    `Source: mytool
Maintainer: Forge Test <test@example.org>
Build-Depends: debhelper-compat (= 13)

# Depends: not-a-field
Package: mytool
Architecture: any
Pre-Depends: \${misc:Pre-Depends}, dpkg (>= 1.17)
Depends: \${shlibs:Depends}, \${misc:Depends},
 mytool-data (= \${source:Version}), libfoo1, python3 (>= 3.11) | python3-minimal
Description: a tool
 A tool.

Package: mytool-data
Architecture: all
Depends: \${misc:Depends}, tzdata
Description: its data
 Data.

Package: mytool-arm
Architecture: arm64
Description: arm only
 Arm.

`,
  );
  writeFileSync(join(tree, 'debian/rules'), '#!/usr/bin/make -f\n%:\n\tdh $@\n', { mode: 0o755 });
  return tree;
}

const noDpkgSource = which('dpkg-source') ? false : 'dpkg-source (dpkg-dev) is not installed';

describe('source packages planned', () => {
  it('installs every binary but -dbgsym, and leaves relations on binaries built here to the trees', async () => {
    const builds = await plan([{ name: 'libfoo' }, { name: 'footool' }]);
    assert.deepEqual(
      builds.map((b) => [b.suffix, b.install.map((p) => `${p.name} ${p.arch}`), b.relations]),
      [
        [
          '-libfoo',
          ['libfoo1 amd64', 'libfoo-dev all'],
          ['libc6 (>= 2.34)', 'zlib1g (>= 1:1.2)', 'dpkg (>= 1.17)'],
        ],
        ['-footool', ['footool amd64'], ['libc6']],
      ],
    );
    assert.deepEqual(builds[0]?.install[0]?.source, { name: 'libfoo', version: '1.0-1' });
    assert.deepEqual(sourceCheckpoints(builds), [
      'build-sbuild',
      'sbuild-env-libfoo',
      'source-libfoo',
      'debs-libfoo',
      'sbuild-env-footool',
      'source-footool',
      'debs-footool',
    ]);
  });

  it('takes the install names given, and two entries of one source get pipelines of their own', async () => {
    const builds = await plan([{ name: 'libfoo', install: ['libfoo1'] }, { name: 'libfoo' }]);
    assert.deepEqual(
      builds.map((b) => [b.suffix, b.install.map((p) => p.name)]),
      [
        ['-libfoo', ['libfoo1']],
        ['-libfoo-2', ['libfoo1', 'libfoo-dev']],
      ],
    );
    const stage = installBuiltStage(builds, []);
    assert.deepEqual(Object.keys(stage.inputs ?? {}), ['debs-libfoo', 'debs-libfoo-2'], 'no files input');
    assert.deepEqual(stage.options, {
      packages: ['libfoo1=1.0-1', 'libfoo1=1.0-1', 'libfoo-dev=1.0-1'],
    });
  });

  it('refuses an install name the source does not build for the architecture', async () => {
    await assert.rejects(plan([{ name: 'libfoo', install: ['libfoo2', 'libfoo1'] }]), (err: unknown) => {
      assert.ok(err instanceof ComposerError);
      assert.equal(err.code, ComposerErrorCode.SourceInstall);
      assert.match(
        err.message,
        /libfoo 1\.0-1 builds no libfoo2 for amd64 \(it builds: libfoo1, libfoo-dev, libfoo1-dbgsym\)/,
      );
      return true;
    });
  });

  it('reads a local tree’s binaries and relations from its debian/control, substvars dropped', {
    skip: noDpkgSource,
  }, async () => {
    const tree = mytoolTree();
    const builds = await plan([{ path: tree }, { name: 'libfoo', install: ['libfoo1'] }]);
    const mytool = builds[0] ?? assert.fail('no build');
    assert.equal(mytool.suffix, '-mytool');
    assert.deepEqual(
      mytool.install.map((p) => `${p.name} ${p.version} ${p.arch}`),
      ['mytool 2.0 amd64', 'mytool-data 2.0 all'],
      'the arm64-only binary is not built for amd64',
    );
    assert.deepEqual(mytool.install[0]?.source, { name: 'mytool', version: '2.0' });
    assert.deepEqual(mytool.relations, ['dpkg (>= 1.17)', 'python3 (>= 3.11) | python3-minimal', 'tzdata']);
    const inline = mytool.inline ?? assert.fail('no inline items');
    assert.deepEqual(
      Object.keys(inline).sort(),
      [mytool.source.dsc, ...mytool.source.files].map((f) => `sha256:${f.sha256}`).sort(),
    );
    assert.deepEqual(readdirSync(work).sort(), ['mytool-2.0'], 'the planning directory is gone');
    await assert.rejects(plan([{ path: tree, install: ['mytool-arm'] }]), {
      code: ComposerErrorCode.SourceInstall,
      message: /mytool 2\.0 builds no mytool-arm for amd64 \(it builds: mytool, mytool-data\)/,
    });
  });

  it('takes a local .dsc’s binaries from its Package-List, with no relations', {
    skip: noDpkgSource,
  }, async () => {
    const tree = mytoolTree();
    await run(['dpkg-source', '--build', 'mytool-2.0'], { cwd: work, env: { LC_ALL: 'C' } });
    const builds = await plan([{ path: join(work, 'mytool_2.0.dsc'), install: ['mytool'] }]);
    assert.deepEqual(
      builds.map((b) => [b.install.map((p) => `${p.name} ${p.arch}`), b.relations]),
      [[['mytool amd64'], []]],
    );
    rmSync(tree, { recursive: true });
    await assert.rejects(plan([{ path: join(work, 'nothing-here') }]), {
      code: ComposerErrorCode.LocalSource,
    });
  });

  it('reads paths only inside localSourceDirs, when given: none, outside, a link leading out', async () => {
    const inside = join(work, 'allowed');
    mkdirSync(inside, { recursive: true });
    symlinkSync('/etc', join(inside, 'etc'));
    const planIn = (dirs: string[], path: string) => plan([{ path }], dirs);
    for (const [dirs, path, why] of [
      [[], join(inside, 'tree'), /builds no source packages from paths/],
      [[inside], '/etc/ssl', /not inside the directories/],
      [[inside], inside, /not inside the directories/],
      [[inside], `${inside}-other/tree`, /not inside the directories/],
      [[inside], join(inside, 'etc'), /not inside the directories/],
    ] as const) {
      await assert.rejects(planIn([...dirs], path), (err: unknown) => {
        assert.ok(err instanceof ComposerError, String(err));
        assert.equal(err.code, ComposerErrorCode.LocalSourceDenied, path);
        assert.match(err.message, why, path);
        return true;
      });
    }
    // Inside: read, and refused only for what it is.
    await assert.rejects(planIn([inside], join(inside, 'nothing-here')), {
      code: ComposerErrorCode.LocalSource,
    });
  });
});
