import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DISTROS } from '@debian-forge/composer';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import { startTestWorker, tinyPlanner, uploadingBuild, waitForState } from '../services/compose.fixture.ts';
import { noDebianMirror } from '../weldr/weldr.fixture.ts';
import { composeRequestOf } from './composes.ts';
import { CLOUD_PREFIX } from './prefix.ts';

const imageRequest = { architecture: 'x86_64', image_type: 'guest-image', repositories: [] };

test('Cloud API composes: start, status, metadata, logs, download; errors in the Cloud error object', async (t) => {
  const a = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  await startTestWorker(a, async (ctx) => {
    await gate;
    return uploadingBuild(() => a)(ctx);
  });
  const post = (body: unknown) =>
    a.app.inject({ method: 'POST', url: `${CLOUD_PREFIX}/compose`, payload: body as object });
  const get = (path: string, headers: Record<string, string> = {}) =>
    a.app.inject({ method: 'GET', url: `${CLOUD_PREFIX}${path}`, headers });

  const started = await post({
    distribution: 'debian-12',
    image_request: imageRequest,
    customizations: { packages: ['tmux'] },
  });
  assert.equal(started.statusCode, 201, started.body);
  const { id, kind, href } = started.json() as { id: string; kind: string; href: string };
  assert.equal(kind, 'ComposeId');
  assert.equal(href, `${CLOUD_PREFIX}/composes/${id}`);
  const stored = a.store.composes.get(id);
  assert.equal(stored?.imageType, 'qcow2', 'guest-image is our qcow2');
  assert.deepEqual((stored?.blueprint as { packages?: unknown } | undefined)?.packages, [{ name: 'tmux' }]);

  await waitForState(a, id, 'BUILDING');
  const building = (await get(`/composes/${id}`)).json() as Record<string, unknown>;
  assert.equal(building.kind, 'ComposeStatus');
  assert.equal(building.status, 'pending');
  assert.deepEqual(building.image_status, { status: 'building' });
  const notYet = await get(`/composes/${id}/download`);
  assert.equal(notYet.statusCode, 400);
  assert.equal(notYet.json().id, 'ComposeNotFinished');
  release();
  await waitForState(a, id, 'COMPLETED');

  const done = (await get(`/composes/${id}`)).json() as { status: string; image_status: { status: string } };
  assert.equal(done.status, 'success');
  assert.equal(done.image_status.status, 'success');
  const list = (await get('/composes/')).json() as { id: string; kind: string }[];
  assert.deepEqual(
    list.map((i) => [i.id, i.kind]),
    [[id, 'ComposeStatus']],
  );
  const meta = (await get(`/composes/${id}/metadata`)).json() as { kind: string; packages: unknown[] };
  assert.equal(meta.kind, 'ComposeMetadata');
  assert.deepEqual(meta.packages, [], 'the tiny manifest has no packages');
  const logs = (await get(`/composes/${id}/logs`)).json() as { image_builds: string[] };
  assert.match(logs.image_builds[0] ?? '', new RegExp(`building ${id}`));
  const image = await get(`/composes/${id}/download`);
  assert.equal(image.statusCode, 200);
  assert.equal(image.body, `image bytes of ${id}\n`);
  assert.equal(image.headers['content-type'], 'application/x-qemu-disk');
  const range = await get(`/composes/${id}/download`, { range: 'bytes=0-4' });
  assert.equal(range.statusCode, 206);
  assert.equal(range.body, 'image');

  // a failed compose carries its reason
  const failing = await post({
    distribution: 'debian-12',
    image_request: { ...imageRequest, image_type: 'tar' },
  });
  const failedId = (failing.json() as { id: string }).id;
  await a.composes.cancel(failedId);
  const failed = (await get(`/composes/${failedId}`)).json() as {
    status: string;
    image_status: { error?: { reason: string } };
  };
  assert.equal(failed.status, 'failure');
  assert.equal(failed.image_status.error?.reason, 'cancelled on request');

  const error = async (
    res: Promise<{ statusCode: number; json(): unknown }>,
    status: number,
    code: string,
  ) => {
    const r = await res;
    assert.equal(r.statusCode, status);
    const body = r.json() as { kind: string; id: string; code: string; href: string };
    assert.equal(body.kind, 'Error');
    assert.equal(body.id, code);
    assert.equal(body.code, `IMAGE-BUILDER-COMPOSER-${code}`);
  };
  await error(post({ image_request: imageRequest }), 400, 'BadRequest');
  await error(post({ distribution: 'debian-12' }), 400, 'InvalidNumberOfImageBuilds');
  await error(
    post({ distribution: 'fedora-40', image_request: imageRequest }),
    400,
    'UnsupportedDistribution',
  );
  await error(
    post({ distribution: 'debian-12', image_request: { ...imageRequest, image_type: 'ami' } }),
    400,
    'UnsupportedImageType',
  );
  await error(
    post({ distribution: 'debian-12', image_request: { ...imageRequest, architecture: 's390x' } }),
    400,
    'UnsupportedArchitecture',
  );
  await error(
    post({
      distribution: 'debian-12',
      image_request: imageRequest,
      customizations: {},
      blueprint: { name: 'x' },
    }),
    400,
    'BlueprintOrCustomizations',
  );
  await error(get('/composes/not-an-id'), 400, 'InvalidComposeId');
  await error(get('/composes/00000000-0000-0000-0000-000000000000'), 404, 'ComposeNotFound');
  assert.equal(a.store.composes.list().total, 2, 'refused requests store nothing');
});

test('Cloud compose requests: blueprint, repositories and ostree options carried over', () => {
  const req = composeRequestOf({
    distribution: 'debian-13',
    image_requests: [
      {
        architecture: 'x86_64',
        image_type: 'edge-commit',
        repositories: [{ baseurl: 'http://mirror.invalid/extra', check_gpg: false }, { rhsm: false }],
        ostree: { ref: 'debian/13/x86_64/edge', parent: '' },
        size: 5,
      },
    ],
    blueprint: { name: 'bp', version: '1.2.3', packages: [{ name: 'vim' }] },
  });
  assert.equal(req.imageType, 'debian-atomic-commit');
  assert.equal(req.distro, 'debian-13');
  assert.equal(req.size, 5);
  assert.deepEqual(req.ostree, { ref: 'debian/13/x86_64/edge' });
  assert.deepEqual(req.blueprint, {
    name: 'bp',
    version: '1.2.3',
    packages: [{ name: 'vim' }],
    customizations: {
      repositories: [{ id: 'cloud-1', baseurls: ['http://mirror.invalid/extra'], trusted: true }],
    },
  });
});

/** The Cloud API's answer to a compose request. */
const postCompose = (a: TestApi, body: unknown) =>
  a.app.inject({ method: 'POST', url: `${CLOUD_PREFIX}/compose`, payload: body as object });

/** Asserts a 400 Cloud error with `id` (and, given, the problems' request paths and messages). */
async function refused(a: TestApi, body: unknown, id: string, details?: { path: string; message: RegExp }[]) {
  const res = await postCompose(a, body);
  assert.equal(res.statusCode, 400, res.body);
  const err = res.json() as { id: string; reason: string; details?: string };
  assert.equal(err.id, id, res.body);
  if (details) {
    const lines = problemLines(err.details);
    assert.deepEqual(
      lines.map((d) => d.path),
      details.map((d) => d.path),
    );
    for (const [i, d] of details.entries()) assert.match(lines[i]?.message ?? '', d.message);
  }
  return err;
}

/** The problems in a Cloud error's `details`, a line `PATH: MESSAGE` each (plugin.ts detailsText). */
function problemLines(details: string | undefined): { path: string; message: string }[] {
  assert.equal(typeof details, 'string', 'details are text, as composer-cli decodes them');
  return (details as string).split('\n').map((line) => {
    const at = line.indexOf(': ');
    return { path: line.slice(0, at), message: line.slice(at + 2) };
  });
}

const base = { distribution: 'debian-12', image_request: imageRequest };

test("Cloud compose requests: customizations become blueprint keys, checked and hashed like a pushed blueprint; errors name the request's keys", async (t) => {
  const a = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  const secret = 'plain-secret-cloud-42';
  const err = await refused(
    a,
    {
      ...base,
      customizations: {
        users: [{ name: 'admin\nroot:x:0:0::/root:/bin/sh', password: secret }],
        directories: [{ path: 'tree:///../../etc' }],
        files: [{ path: '/../../etc/cron.d/evil', data: '* * * * * root id\n' }],
        filesystem: [{ mountpoint: '/var', min_size: 'lots' }],
        custom_repositories: [{ id: 'x', baseurl: ['ftp//nope'] }],
        packages: ['ok', 'Bad Name'],
        subscription: { organization: 1 },
      },
    },
    'InvalidCustomization',
    [
      { path: '.customizations.packages[1]', message: /invalid Debian package name "Bad Name"/ },
      { path: '.customizations.users[0].name', message: /invalid user name/ },
      { path: '.customizations.filesystem[0].min_size', message: /not a size/ },
      { path: '.customizations.directories[0].path', message: /must be absolute/ },
      { path: '.customizations.files[0].path', message: /must be canonical/ },
      { path: '.customizations.custom_repositories[0].baseurl[0]', message: /invalid repository URI/ },
      { path: '.customizations.subscription', message: /unknown key "subscription"/ },
    ],
  );
  assert.ok(!err.reason.includes(secret), 'the reason does not repeat the password');
  await refused(
    a,
    { ...base, blueprint: { name: 'bp', customizations: { user: [{ name: 'a\nb' }] } } },
    'InvalidCustomization',
    [{ path: '.blueprint.customizations.user[0].name', message: /invalid user name/ }],
  );
  await refused(
    a,
    { ...base, blueprint: { name: 'bp', packages: [{ name: 'vim' }], minimal: 'yes' } },
    'InvalidCustomization',
    [{ path: '.blueprint.minimal', message: /expected a boolean/ }],
  );
  await refused(
    a,
    {
      ...base,
      image_request: { ...imageRequest, repositories: [{ rhsm: false }, { baseurl: 'gopher://x' }] },
    },
    'InvalidCustomization',
    [{ path: '.image_request.repositories[1]', message: /invalid repository URI/ }],
  );
  assert.equal(a.store.composes.list().total, 0, 'nothing stored');
  // depsolve/blueprint checks its packages the same way, before apt is asked.
  const dep = await a.app.inject({
    method: 'POST',
    url: `${CLOUD_PREFIX}/depsolve/blueprint`,
    payload: { blueprint: { packages: [{ name: '-oDebug::pkgProblemResolver=1' }] } },
  });
  assert.equal(dep.statusCode, 400, dep.body);
  assert.equal(dep.json().id, 'InvalidCustomization');
  assert.deepEqual(
    problemLines(dep.json().details).map((d) => d.path),
    ['.blueprint.packages[0].name'],
  );

  const ok = await postCompose(a, {
    ...base,
    customizations: {
      users: [{ name: 'admin', password: secret, groups: ['sudo'] }],
      groups: [{ name: 'ops', gid: 2000 }],
      filesystem: [{ mountpoint: '/var', min_size: 1024 ** 3 }],
      fips: { enabled: false },
      packages: ['tmux'],
    },
  });
  assert.equal(ok.statusCode, 201, ok.body);
  const { id } = ok.json() as { id: string };
  const row = a.store.composes.get(id);
  const bp = row?.blueprint as Record<string, unknown>;
  assert.deepEqual(bp.packages, [{ name: 'tmux' }]);
  const c = bp.customizations as {
    user: { name: string; password: string }[];
    group: unknown;
    filesystem: unknown;
    fips: unknown;
  };
  assert.equal(c.user[0]?.name, 'admin');
  assert.match(c.user[0]?.password ?? '', /^\$6\$/);
  assert.deepEqual(c.group, [{ name: 'ops', gid: 2000 }]);
  assert.deepEqual(c.filesystem, [{ mountpoint: '/var', minsize: 1024 ** 3 }]);
  assert.equal(c.fips, false);
  assert.ok(!JSON.stringify(row).includes(secret), 'no plain text in the row');
});

test('Cloud compose requests: a size is a whole number of bytes up to the maximum image size', async (t) => {
  const a = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  for (const size of [true, 1.5, -1, '1 GiB']) {
    await refused(a, { ...base, image_request: { ...imageRequest, size } }, 'BadRequest');
  }
  const huge = await refused(a, { ...base, image_request: { ...imageRequest, size: 1e12 } }, 'BadRequest');
  assert.match(huge.reason, /more than the largest image this service makes/);
  assert.equal(a.store.composes.list().total, 0, 'nothing stored');
});

test('Cloud API: a compose id in upper case is the same compose', async (t) => {
  const a = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  const ok = await postCompose(a, base);
  assert.equal(ok.statusCode, 201, ok.body);
  const { id } = ok.json() as { id: string };
  // The routes of one compose, asked with its id in upper case.
  for (const path of [
    `/composes/${id.toUpperCase()}`,
    `/composes/${id.toUpperCase()}/logs`,
    `/composes/${id.toUpperCase()}/metadata`,
  ]) {
    const res = await a.app.inject({ method: 'GET', url: `${CLOUD_PREFIX}${path}` });
    assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
    assert.equal((res.json() as { id: string }).id, id);
  }
});

test('Cloud API: distributions and the OpenAPI document of its routes', async (t) => {
  const a = await startTestApi(t, {}, { lifecycle: false });
  const dists = (
    await a.app.inject({ method: 'GET', url: `${CLOUD_PREFIX}/distributions` })
  ).json() as Record<string, Record<string, Record<string, unknown[]>>>;
  assert.deepEqual(Object.keys(dists).sort(), DISTROS.map((d) => d.name).sort());
  assert.ok(Array.isArray(dists['debian-12']?.x86_64?.qcow2));
  const doc = (await a.app.inject({ method: 'GET', url: `${CLOUD_PREFIX}/openapi` })).json() as {
    openapi: string;
    paths: Record<string, unknown>;
  };
  assert.match(doc.openapi, /^3\./);
  const paths = Object.keys(doc.paths);
  for (const p of ['/compose', '/composes/', '/composes/{id}', '/composes/{id}/download', '/distributions']) {
    assert.ok(paths.includes(`${CLOUD_PREFIX}${p}`), `${p} in ${paths.join(' ')}`);
  }
  assert.ok(
    paths.every((p) => p.startsWith(CLOUD_PREFIX)),
    'only the Cloud API',
  );
});

test('Cloud API: depsolve and package search against the real Debian index', {
  skip: noDebianMirror(),
}, async (t) => {
  const a = await startTestApi(t, {}, { lifecycle: false });
  const dep = await a.app.inject({
    method: 'POST',
    url: `${CLOUD_PREFIX}/depsolve/blueprint`,
    payload: { blueprint: { name: 'x', packages: [{ name: 'tmux' }] }, distribution: 'debian-12' },
  });
  assert.equal(dep.statusCode, 200, dep.body);
  const tmux = (dep.json() as { packages: { name: string; type: string; checksum: string }[] }).packages.find(
    (p) => p.name === 'tmux',
  );
  assert.equal(tmux?.type, 'deb');
  assert.match(tmux?.checksum ?? '', /^sha256:[0-9a-f]{64}$/);
  const bad = await a.app.inject({
    method: 'POST',
    url: `${CLOUD_PREFIX}/depsolve/blueprint`,
    payload: { blueprint: { packages: [{ name: 'no-such-package-zz' }] } },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().id, 'FailedToDepsolve');
  const found = await a.app.inject({
    method: 'POST',
    url: `${CLOUD_PREFIX}/search/packages`,
    payload: { packages: ['tmux'], distribution: 'debian-12', architecture: 'x86_64' },
  });
  const [p] = (found.json() as { packages: { name: string; summary: string; arch: string }[] }).packages;
  assert.equal(p?.name, 'tmux');
  assert.match(p?.summary ?? '', /terminal/i);
});

test('Cloud API metadata: the packages of the stored plan as apt resolved them (names, epochs, releases)', {
  skip: noDebianMirror(),
}, async (t) => {
  // No worker: the packages are known once the compose is planned (QUEUED).
  const a = await startTestApi(t, {}, { lifecycle: false });
  const started = await a.app.inject({
    method: 'POST',
    url: `${CLOUD_PREFIX}/compose`,
    payload: {
      distribution: 'debian-12',
      image_request: { architecture: 'x86_64', image_type: 'tar', repositories: [] },
      customizations: { packages: ['tmux'] },
    },
  });
  assert.equal(started.statusCode, 201, started.body);
  const { id } = started.json() as { id: string };
  await waitForState(a, id, 'QUEUED', 600_000);
  const meta = await a.app.inject({ method: 'GET', url: `${CLOUD_PREFIX}/composes/${id}/metadata` });
  assert.equal(meta.statusCode, 200, meta.body);
  const packages = (meta.json() as { packages: Record<string, unknown>[] }).packages;
  const byName = new Map(packages.map((p) => [p.name, p]));
  assert.ok(byName.has('tmux'));
  assert.equal(byName.get('libstdc++6')?.type, 'deb', 'libstdc++6 by its name, not libstdc%2b%2b6');
  assert.equal(byName.get('zlib1g')?.epoch, 1, 'the epoch of zlib1g');
  assert.equal(byName.get('adduser')?.release, '', 'a native package has no release');
  const planned = a.store.composes.get(id)?.build?.layers.flat() ?? [];
  assert.equal(packages.length, planned.length, 'every package of the plan, once');
  for (const p of packages) assert.match(String(p.checksum), /^sha256:[0-9a-f]{64}$/);
});
