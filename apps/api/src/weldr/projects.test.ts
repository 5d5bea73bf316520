import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildLocalRepository } from '@debian-forge/apt';
import { DISTROS } from '@debian-forge/composer';
import { startTestApi } from '../api.fixture.ts';
import { buildApp } from '../app.ts';
import { createPackageService } from '../services/packages.ts';
import { debVersion, noDebianMirror, weldrError } from './weldr.fixture.ts';

test('distros/list (v1 only)', async (t) => {
  const { app } = await startTestApi(t);
  const res = await app.inject({ method: 'GET', url: '/api/v1/distros/list' });
  assert.deepEqual(res.json(), { distros: DISTROS.map((d) => d.name).sort() });
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/v1/distros/list?arch=s390x' })).json(), {
    distros: [],
  });
  weldrError(await app.inject({ method: 'GET', url: '/api/v0/distros/list' }), 404, 'HTTPError', 'Not Found');
});

test("projects/info: composer's PackageInfo, the license from the index where it has one, composer's text for an unknown build time", async (t) => {
  const api = await startTestApi(t);
  // An offline archive: one package whose index stanza has a License field (as some archives
  // other than Debian's carry), in two versions; one without (as every package of Debian's).
  const archive = await buildLocalRepository(
    join(api.dir, 'debian'),
    [
      { name: 'forge-licensed', version: '1:2.0-3', license: 'MIT', summary: 'a licensed package' },
      { name: 'forge-licensed', version: '1:1.0-1', license: 'MIT' },
      { name: 'forge-plain', version: '1.5', summary: 'a plain package' },
    ],
    'debian',
    { suites: ['bookworm'] },
  );
  const packages = createPackageService({
    stateDir: api.dir,
    store: api.store,
    hostSources: () => [archive],
    hostDistro: 'debian-12',
    hostArch: 'x86_64',
  });
  const app = await buildApp({ ...api.deps, packages });
  t.after(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/api/v0/projects/info/forge-licensed,forge-plain' });
  assert.equal(res.statusCode, 200, res.body);
  const build = (epoch: number, version: string, release: string, license: string) => ({
    arch: 'all',
    build_time: '0001-01-01T00:00:00',
    epoch,
    release,
    source: { license, version, source_ref: 'SOURCE_REF', metadata: {} },
    changelog: 'CHANGELOG_NEEDED',
    build_config_ref: 'BUILD_CONFIG_REF',
    build_env_ref: 'BUILD_ENV_REF',
    metadata: {},
  });
  assert.deepEqual(res.json(), {
    projects: [
      {
        name: 'forge-licensed',
        summary: 'a licensed package',
        description: 'a licensed package',
        homepage: '',
        upstream_vcs: 'UPSTREAM_VCS',
        // The older version's record is not the one read: its license is not claimed.
        builds: [build(1, '2.0', '3', 'MIT'), build(1, '1.0', '1', '')],
      },
      {
        name: 'forge-plain',
        summary: 'a plain package',
        description: 'a plain package',
        homepage: '',
        upstream_vcs: 'UPSTREAM_VCS',
        builds: [build(0, '1.5', '', '')],
      },
    ],
  });
});

test('projects and modules against the real Debian index', { skip: noDebianMirror() }, async (t) => {
  // One app, so the index is fetched and parsed once for all the cases below.
  const { app } = await startTestApi(t);
  const get = (url: string) => app.inject({ method: 'GET', url });

  await t.test('projects/list: limit=0 gives the total, pages carry PackageInfo', async () => {
    const count = (await get('/api/v0/projects/list?limit=0')).json();
    assert.ok(count.total > 10000, `total ${count.total}`);
    assert.deepEqual(count.projects, []);
    assert.equal(count.limit, 0);
    const page = (await get('/api/v1/projects/list?offset=100&limit=3')).json();
    assert.equal(page.total, count.total);
    assert.equal(page.offset, 100);
    assert.equal(page.projects.length, 3);
    const names = page.projects.map((p: { name: string }) => p.name);
    assert.deepEqual([...names].sort(), names);
    const p = page.projects[0];
    assert.deepEqual(Object.keys(p), [
      'name',
      'summary',
      'description',
      'homepage',
      'upstream_vcs',
      'builds',
    ]);
    assert.ok(p.builds.length >= 1);
    assert.deepEqual(Object.keys(p.builds[0].source), ['license', 'version', 'source_ref', 'metadata']);
    weldrError(await get('/api/v0/projects/list?offset=-1'), 400, 'BadLimitOrOffset', /'offset'/);
  });

  await t.test('projects/info: Debian records; globs; errors', async () => {
    const res = await get('/api/v0/projects/info/tmux,no-such-package-zz');
    assert.equal(res.statusCode, 200);
    const [tmux] = res.json().projects;
    assert.equal(tmux.name, 'tmux');
    assert.match(tmux.summary, /terminal/i);
    assert.ok(tmux.description.length > tmux.summary.length);
    const build = tmux.builds[0];
    assert.equal(build.arch, 'amd64');
    const dep = (await get('/api/v0/projects/depsolve/tmux')).json().projects;
    const resolved = dep.find((d: { name: string }) => d.name === 'tmux');
    assert.equal(debVersion({ ...build, version: build.source.version }), debVersion(resolved));
    const globbed = (await get('/api/v0/projects/info/tmux*')).json().projects;
    assert.ok(globbed.length >= 1 && globbed.every((p: { name: string }) => p.name.startsWith('tmux')));

    weldrError(await get('/api/v0/projects/info'), 400, 'UnknownProject', 'No packages specified.');
    weldrError(await get('/api/v0/projects/info/'), 400, 'UnknownProject', 'No packages specified.');
    weldrError(
      await get('/api/v0/projects/info/no-such-package-zz'),
      400,
      'UnknownProject',
      'No packages have been found.',
    );
    weldrError(
      await get('/api/v0/projects/info/tmux?distro=fedora-40'),
      400,
      'DistroError',
      'Invalid distro: fedora-40',
    );
    weldrError(
      await get('/api/v0/projects/info/tmux?arch=s390x'),
      400,
      'ProjectsError',
      /^msg: GetDistro - unknown distribution: debian-/,
    );
    weldrError(await get('/api/v0/projects/info/a%2Fb'), 400, 'InvalidChars');
    weldrError(await get('/api/v0/modules/info/'), 400, 'UnknownModule', 'No packages specified.');
  });

  await t.test('projects/depsolve: PkgSpecs; errors', async () => {
    const projects = (await get('/api/v0/projects/depsolve/tmux')).json().projects;
    assert.ok(projects.length > 1);
    for (const p of projects) {
      assert.deepEqual(Object.keys(p), [
        'name',
        'epoch',
        'version',
        'release',
        'arch',
        'remote_location',
        'checksum',
      ]);
      assert.match(p.checksum, /^sha256:[0-9a-f]{64}$/);
      assert.ok(p.arch === 'amd64' || p.arch === 'all');
    }
    weldrError(await get('/api/v0/projects/depsolve/'), 400, 'UnknownProject', 'No packages specified.');
    weldrError(
      await get('/api/v0/projects/depsolve/no-such-package-zz'),
      400,
      'ProjectsError',
      /^BadRequest: .*no-such-package-zz/,
    );
    weldrError(
      await get('/api/v0/projects/depsolve/tmux?arch=s390x'),
      400,
      'DistroError',
      /^Unknown distribution: /,
    );
  });

  await t.test('modules/list and modules/info: group_type "deb", dependencies', async () => {
    const count = (await get('/api/v0/modules/list?limit=0')).json();
    assert.ok(count.total > 10000);
    assert.deepEqual(count.modules, []);
    const some = (await get('/api/v0/modules/list/tmux*,bash')).json();
    assert.ok(some.modules.some((m: { name: string }) => m.name === 'bash'));
    assert.ok(some.modules.every((m: { group_type: string }) => m.group_type === 'deb'));
    assert.equal(some.total, some.modules.length);
    weldrError(
      await get('/api/v0/modules/list/no-such-package-zz'),
      400,
      'UnknownModule',
      'No packages have been found.',
    );
    weldrError(await get('/api/v0/modules/list?limit=many'), 400, 'BadLimitOrOffset');
    weldrError(
      await get('/api/v0/modules/list?distro=debian-99'),
      400,
      'DistroError',
      'Invalid distro: debian-99',
    );

    const [tmux] = (await get('/api/v1/modules/info/tmux')).json().modules;
    assert.equal(tmux.name, 'tmux');
    const deps = tmux.dependencies.map((d: { name: string }) => d.name);
    assert.ok(deps.includes('tmux'));
    assert.ok(deps.some((n: string) => n.startsWith('libevent')));
    weldrError(
      await get('/api/v0/modules/info/no-such-package-zz'),
      400,
      'UnknownModule',
      'No packages have been found.',
    );
  });
});
