import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createPackageService } from '../services/packages.ts';
import { startTestApi } from '../testing.ts';
import { postText, weldrError } from './test-helpers.ts';

const MIRROR = 'http://mirror.invalid/debian';

function post(app: FastifyInstance, version: 'v0' | 'v1', body: string, contentType?: string) {
  return postText(app, `/api/${version}/projects/source/new`, body, contentType);
}

function get(app: FastifyInstance, url: string) {
  return app.inject({ method: 'GET', url });
}

test('sources: new (JSON, TOML with and without [id]), list, info v0 by name and v1 by id, delete', async (t) => {
  const { app, store } = await startTestApi(t);
  const v0 = {
    name: 'extra',
    type: 'deb',
    url: MIRROR,
    suites: ['bookworm'],
    components: ['main', 'contrib'],
    check_gpg: true,
    check_ssl: true,
    signed_by: '/usr/share/keyrings/debian-archive-keyring.gpg',
  };
  assert.deepEqual((await post(app, 'v0', JSON.stringify(v0), 'application/json')).json(), { status: true });
  const wrapped = `[mine]\nname = "Mine"\ntype = "deb"\nurl = "${MIRROR}"\nsuites = ["./"]\ncheck_gpg = false\n`;
  assert.equal((await post(app, 'v1', wrapped, 'text/x-toml')).statusCode, 200);
  const plain = `id = "flat"\nname = "Flat"\ntype = "deb"\nurl = "file:///srv/repo"\n`;
  assert.equal((await post(app, 'v1', plain, 'text/x-toml')).statusCode, 200);
  assert.deepEqual(
    store.sources.list().map((s) => s.name),
    ['extra', 'flat', 'mine'],
  );

  const list = (await get(app, '/api/v0/projects/source/list')).json().sources as string[];
  assert.deepEqual(list.slice(0, 3), ['extra', 'flat', 'mine']);
  assert.deepEqual((await get(app, '/api/v1/projects/source/list')).json().sources, list);

  const info0 = (await get(app, '/api/v0/projects/source/info/extra,nope')).json();
  assert.deepEqual(info0, {
    sources: {
      extra: {
        name: 'extra',
        type: 'deb',
        url: MIRROR,
        check_gpg: true,
        check_ssl: true,
        system: false,
        suites: ['bookworm'],
        components: ['main', 'contrib'],
        signed_by: ['/usr/share/keyrings/debian-archive-keyring.gpg'],
      },
    },
    errors: [{ id: 'UnknownSource', msg: 'nope is not a valid source' }],
  });
  const info1 = (await get(app, '/api/v1/projects/source/info/mine%2Cflat')).json();
  assert.deepEqual(Object.keys(info1.sources), ['mine', 'flat']);
  assert.equal(info1.sources.mine.id, 'mine');
  assert.equal(info1.sources.mine.check_gpg, false);
  assert.equal(info1.sources.mine.rhsm, false);
  assert.deepEqual(info1.sources.mine.suites, ['./']);
  assert.equal(info1.sources.flat.url, 'file:///srv/repo');
  assert.equal(info1.sources.flat.check_gpg, true, 'check_gpg defaults to true');

  const toml = await get(app, '/api/v1/projects/source/info/extra?format=toml');
  assert.equal(toml.statusCode, 200);
  assert.match(String(toml.headers['content-type']), /^application\/json; charset=utf-8/);
  assert.match(toml.body, /^\[extra\]\nid = "extra"\n/);
  // The TOML a client gets back can be posted again as it is.
  assert.equal((await post(app, 'v1', toml.body, 'text/x-toml')).statusCode, 200);
  const all = (await get(app, '/api/v1/projects/source/info/*')).json();
  for (const key of ['extra', 'flat', 'mine']) assert.ok(all.sources[key], key);
  assert.deepEqual(all.errors, []);

  const del = (url: string) => app.inject({ method: 'DELETE', url });
  assert.deepEqual((await del('/api/v0/projects/source/delete/extra,mine')).json(), { status: true });
  weldrError(
    await del('/api/v0/projects/source/delete/extra'),
    400,
    'UnknownSource',
    'extra is not a valid source.',
  );
  assert.ok(store.sources.get('mine'), 'only the first name of a list is deleted');
  weldrError(await del('/api/v0/projects/source/delete/'), 404, 'HTTPError', 'Not Found');
  weldrError(await del('/api/v0/projects/source/delete/a%2F..'), 400, 'InvalidChars');
  weldrError(await get(app, '/api/v0/projects/source/info/'), 404, 'HTTPError', 'Not Found');
  weldrError(
    await get(app, '/api/v0/projects/source/info/mine?format=xml'),
    400,
    'InvalidChars',
    'invalid format parameter: xml',
  );
});

test('sources: bad bodies get ProjectsError, HTTPError or InvalidChars', async (t) => {
  const { app } = await startTestApi(t);
  const json = 'application/json';
  weldrError(await post(app, 'v0', '{"name":"x"}'), 400, 'HTTPError', 'malformed Content-Type header');
  weldrError(await post(app, 'v0', '', json), 400, 'ProjectsError', 'Missing source');
  weldrError(
    await post(app, 'v0', '{"name":"x"}', 'text/plain'),
    400,
    'ProjectsError',
    'Problem parsing POST body: blueprint must be in json or toml format',
  );
  const cases: [string, 'v0' | 'v1', object, string | RegExp][] = [
    ['no id (v1)', 'v1', { name: 'x', type: 'deb', url: MIRROR }, "'id' field is missing from request"],
    ['no name', 'v0', { type: 'deb', url: MIRROR }, "'name' field is missing from request"],
    ['no type', 'v1', { id: 'x', name: 'x', url: MIRROR }, "'type' field is missing from request"],
    ['no url', 'v0', { name: 'x', type: 'deb' }, "'url' field is missing from request"],
    [
      'yum type',
      'v0',
      { name: 'x', type: 'yum-baseurl', url: MIRROR },
      /unsupported source type 'yum-baseurl'/,
    ],
    ['bad url', 'v0', { name: 'x', type: 'deb', url: 'mirror' }, /'url' must be an http, https or file URL/],
    ['bad key', 'v0', { name: 'x', type: 'deb', url: MIRROR, signed_by: 'key' }, /'signed_by' takes keyring/],
    ['bad flag', 'v0', { name: 'x', type: 'deb', url: MIRROR, check_gpg: 'yes' }, /'check_gpg' must be/],
  ];
  for (const [what, version, body, msg] of cases) {
    const res = await post(app, version, JSON.stringify(body), json);
    assert.equal(res.statusCode, 400, what);
    weldrError(
      res,
      400,
      'ProjectsError',
      typeof msg === 'string' ? `Problem parsing POST body: ${msg}` : msg,
    );
  }
  weldrError(
    await post(app, 'v0', '{"name": ', json),
    400,
    'ProjectsError',
    /^Problem parsing POST body: JSON syntax/,
  );
  weldrError(await post(app, 'v1', '[x\nname = 1', 'text/x-toml'), 400, 'ProjectsError', /TOML syntax error/);
  weldrError(
    await post(
      app,
      'v1',
      JSON.stringify({ id: 'x', name: 'x', type: 'deb', url: MIRROR, distros: ['fedora-40'] }),
      json,
    ),
    400,
    'ProjectsError',
    'Invalid distributions: fedora-40',
  );
  for (const name of ['../x', 'a/b', '..']) {
    weldrError(
      await post(app, 'v0', JSON.stringify({ name, type: 'deb', url: MIRROR }), json),
      400,
      'InvalidChars',
    );
  }
});

test('sources: the host Debian repositories are system sources that cannot change', async (t) => {
  const { app, store, dir } = await startTestApi(t);
  const system = createPackageService({ stateDir: dir, store }).systemSources();
  if (system.length === 0) {
    t.skip("the host's apt sources hold no Debian repository");
    return;
  }
  const first = system[0]?.id as string;
  const list = (await get(app, '/api/v1/projects/source/list')).json().sources as string[];
  assert.deepEqual(
    list,
    system.map((s) => s.id),
  );
  const info = (await get(app, `/api/v1/projects/source/info/${first}`)).json().sources[first];
  assert.equal(info.system, true);
  assert.equal(info.type, 'deb');
  assert.ok(info.suites.length > 0);
  assert.match(info.url, /^(https?|file):/);
  weldrError(
    await post(
      app,
      'v1',
      JSON.stringify({ id: first, name: 'x', type: 'deb', url: MIRROR }),
      'application/json',
    ),
    400,
    'SystemSource',
    `${first} is a system source, it cannot be changed.`,
  );
  weldrError(
    await app.inject({ method: 'DELETE', url: `/api/v1/projects/source/delete/${first}` }),
    400,
    'SystemSource',
    `${first} is a system source, it cannot be deleted.`,
  );
});
