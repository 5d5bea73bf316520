import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildLocalRepository, openRoot } from '@debian-forge/apt';
import { getDistro } from '@debian-forge/composer';
import type { FastifyInstance } from 'fastify';
import { startTestApi } from '../api.fixture.ts';
import { buildApp } from '../app.ts';
import { createPackageService } from '../services/packages.ts';
import { postText, weldrError } from './weldr.fixture.ts';

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

  // v0 lists names (sorted as composer sorts them, bytewise), v1 ids; the system sources follow.
  const list0 = (await get(app, '/api/v0/projects/source/list')).json().sources as string[];
  assert.deepEqual(list0.slice(0, 3), ['Flat', 'Mine', 'extra']);
  const list = (await get(app, '/api/v1/projects/source/list')).json().sources as string[];
  assert.deepEqual(list.slice(0, 3), ['extra', 'flat', 'mine']);
  assert.deepEqual(list0.slice(3), list.slice(3));

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
  assert.equal(info1.sources.mine.name, 'Mine', 'v1 keeps the name apart from the id');
  assert.equal(info1.sources.flat.name, 'Flat');
  // v0 looks a source up by its key too, and answers under its name, without id.
  const info0v1 = (await get(app, '/api/v0/projects/source/info/mine')).json();
  assert.deepEqual(Object.keys(info0v1.sources), ['Mine']);
  assert.equal(info0v1.sources.Mine.name, 'Mine');
  assert.equal(info0v1.sources.Mine.id, undefined);
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
  // v0 checks the key, then deletes by name, as composer does: "mine" is named "Mine", so it stays.
  assert.deepEqual((await del('/api/v0/projects/source/delete/mine')).json(), { status: true });
  assert.ok(store.sources.get('mine'));
  assert.deepEqual((await del('/api/v1/projects/source/delete/mine')).json(), { status: true });
  assert.equal(store.sources.get('mine'), undefined, 'v1 deletes by id');
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
    [
      'bad key',
      'v0',
      { name: 'x', type: 'deb', url: MIRROR, signed_by: 'key' },
      "'signed_by': expected an absolute path to a keyring or an ASCII-armoured key block",
    ],
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

test('sources: a new line in any field is refused (ProjectsError) and nothing is stored', async (t) => {
  const { app, store } = await startTestApi(t);
  const json = 'application/json';
  const inject = '\nTrusted: yes';
  const base = {
    id: 'extra',
    name: 'extra',
    type: 'deb',
    url: MIRROR,
    suites: ['bookworm'],
    components: ['main'],
  };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'url',
      { url: `${MIRROR}${inject}` },
      /'url': invalid repository URI .*white space or control characters/,
    ],
    ['url (tab)', { url: `${MIRROR}\t` }, /'url': invalid repository URI/],
    ['suites', { suites: [`bookworm${inject}`] }, /'suites': invalid suite "bookworm\\nTrusted: yes"/],
    [
      'components',
      { components: [`main${inject}`] },
      /'components': invalid component "main\\nTrusted: yes"/,
    ],
    ['signed_by', { signed_by: [`/k.gpg${inject}`] }, /'signed_by': keyring path .* control characters/],
    ['gpgkeys', { gpgkeys: `/k.gpg${inject}` }, /'signed_by': keyring path .* control characters/],
    ['name (v1)', { name: `Extra${inject}` }, /'name' must be one line/],
    ['name too long (v1)', { name: 'n'.repeat(101) }, /'name' too long: 101 characters/],
  ];
  for (const [what, change, msg] of cases) {
    for (const version of ['v0', 'v1'] as const) {
      const body = { ...base, ...change };
      if (version === 'v0' && what.includes('name')) continue; // v0's name is the key: InvalidChars below
      weldrError(await post(app, version, JSON.stringify(body), json), 400, 'ProjectsError', msg);
    }
  }
  // The same in TOML, as composer-cli sends it.
  weldrError(
    await post(
      app,
      'v1',
      `id = "extra"\nname = "x"\ntype = "deb"\nurl = "${MIRROR}"\nsuites = ["a\\nTrusted: yes"]\n`,
      'text/x-toml',
    ),
    400,
    'ProjectsError',
    /'suites': invalid suite/,
  );
  // Keys: the name rule, with the length limit named.
  for (const [version, key] of [
    ['v0', `x${inject}`],
    ['v1', `x${inject}`],
    ['v0', '.'],
    ['v1', '..'],
  ] as const) {
    const body = version === 'v0' ? { ...base, name: key } : { ...base, id: key };
    weldrError(
      await post(app, version, JSON.stringify(body), json),
      400,
      'InvalidChars',
      'Invalid characters in API path',
    );
  }
  weldrError(
    await post(app, 'v1', JSON.stringify({ ...base, id: 'x'.repeat(100_000) }), json),
    400,
    'InvalidChars',
    'source name too long: 100000 characters, at most 100 allowed',
  );
  weldrError(
    await post(app, 'v0', JSON.stringify({ ...base, name: 'x'.repeat(101) }), json),
    400,
    'InvalidChars',
    'source name too long: 101 characters, at most 100 allowed',
  );
  assert.deepEqual(store.sources.list(), []);
  // And a good one still goes in, at the longest name allowed.
  const longest = 'x'.repeat(100);
  assert.equal((await post(app, 'v1', JSON.stringify({ ...base, id: longest }), json)).statusCode, 200);
  assert.deepEqual(
    store.sources.list().map((s) => s.name),
    [longest],
  );
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

test('sources: distros and check_ssl are stored and shown (v1), left out of v0; JSON and TOML round trips', async (t) => {
  const { app, store } = await startTestApi(t);
  const json = 'application/json';
  const v1 = {
    id: 'trixie-extra',
    name: 'Extra packages for trixie',
    type: 'deb',
    url: 'https://mirror.invalid/extra',
    suites: ['trixie'],
    components: ['main'],
    check_gpg: true,
    check_ssl: false,
    distros: ['debian-13'],
  };
  assert.equal((await post(app, 'v1', JSON.stringify(v1), json)).statusCode, 200);
  const stored = store.sources.get('trixie-extra');
  assert.equal(stored?.displayName, 'Extra packages for trixie');
  assert.deepEqual(stored?.distros, ['debian-13']);
  assert.equal(stored?.checkSsl, false);

  const shown = (await get(app, '/api/v1/projects/source/info/trixie-extra')).json().sources['trixie-extra'];
  assert.deepEqual(shown, { ...v1, system: false, rhsm: false });
  const v0 = (await get(app, '/api/v0/projects/source/info/trixie-extra')).json().sources;
  assert.deepEqual(Object.keys(v0), ['Extra packages for trixie']);
  assert.equal(v0['Extra packages for trixie'].distros, undefined, 'v0 shows no distros');
  assert.equal(v0['Extra packages for trixie'].check_ssl, false);

  // The TOML v1 gives back is keyed by id and posts back to the same source.
  const toml = (await get(app, '/api/v1/projects/source/info/trixie-extra?format=toml')).body;
  assert.match(toml, /^\[trixie-extra\]\n/);
  assert.match(toml, /^distros = \["debian-13"\]$/m);
  store.sources.delete('trixie-extra');
  assert.equal((await post(app, 'v1', toml, 'text/x-toml')).statusCode, 200);
  const again = (await get(app, '/api/v1/projects/source/info/trixie-extra')).json().sources['trixie-extra'];
  assert.deepEqual(again, shown);

  // A wrapped TOML post without id takes the table's key; one without a name is refused, as composer does.
  const wrapped = `[wrapped]\nname = "Wrapped"\ntype = "deb"\nurl = "http://mirror.invalid/w"\ndistros = ["debian-12"]\n`;
  assert.equal((await post(app, 'v1', wrapped, 'text/x-toml')).statusCode, 200);
  assert.deepEqual(store.sources.get('wrapped')?.distros, ['debian-12']);
  assert.equal(store.sources.get('wrapped')?.displayName, 'Wrapped');
  weldrError(
    await post(app, 'v1', JSON.stringify({ id: 'x', type: 'deb', url: MIRROR }), json),
    400,
    'ProjectsError',
    "Problem parsing POST body: 'name' field is missing from request",
  );

  // v0 has no distros: a v0 post's distros are neither checked nor kept.
  const body0 = { name: 'plain', type: 'deb', url: MIRROR, distros: ['fedora-40'] };
  assert.equal((await post(app, 'v0', JSON.stringify(body0), json)).statusCode, 200);
  assert.deepEqual(store.sources.get('plain')?.distros, []);
  const plain = (await get(app, '/api/v1/projects/source/info/plain')).json().sources.plain;
  assert.equal(plain.distros, undefined, 'no distros: the key is left out, as composer omits it');
});

test('sources: one with distros is used only for those distros; check_ssl false reaches apt', async (t) => {
  const api = await startTestApi(t);
  const { store, dir } = api;
  // A Debian-looking archive for bookworm and trixie (the host's "Debian mirror", offline) and a
  // flat repository with a package only the debian-13 source should bring.
  const debian = await buildLocalRepository(
    join(dir, 'debian'),
    [{ name: 'forge-base', version: '1.0-1' }],
    'debian',
    { suites: ['bookworm', 'trixie'] },
  );
  const extra = await buildLocalRepository(join(dir, 'extra'), [
    { name: 'forge-trixie-only', version: '2.0-1' },
  ]);
  const packages = createPackageService({
    stateDir: dir,
    store,
    hostSources: () => [debian],
    hostDistro: 'debian-12',
    hostArch: 'x86_64',
  });
  const app = await buildApp({ ...api.deps, packages });
  t.after(() => app.close());

  const source = {
    id: 'only13',
    name: 'Only for trixie',
    type: 'deb',
    url: extra.uris[0],
    suites: ['./'],
    check_gpg: false,
    distros: ['debian-13'],
  };
  assert.equal((await post(app, 'v1', JSON.stringify(source), 'application/json')).statusCode, 200);
  const depsolve = (distro: string) =>
    get(app, `/api/v1/projects/depsolve/forge-trixie-only?distro=${distro}`);
  const trixie = await depsolve('debian-13');
  assert.equal(trixie.statusCode, 200, trixie.body);
  assert.deepEqual(
    trixie.json().projects.map((p: { name: string }) => p.name),
    ['forge-trixie-only'],
  );
  weldrError(await depsolve('debian-12'), 400, 'ProjectsError', /forge-trixie-only/);
  const base = await get(app, '/api/v1/projects/depsolve/forge-base?distro=debian-12');
  assert.equal(base.statusCode, 200, 'debian-12 still has its own repositories');

  // check_ssl false: that source's repository skips TLS checks, and its apt root says so for its host.
  const insecure = {
    id: 'insecure',
    name: 'Self-signed',
    type: 'deb',
    url: 'https://insecure.invalid/debian',
    check_ssl: false,
    distros: ['debian-13'],
  };
  assert.equal((await post(app, 'v1', JSON.stringify(insecure), 'application/json')).statusCode, 200);
  const shown = (await get(app, '/api/v1/projects/source/info/insecure')).json().sources.insecure;
  assert.equal(shown.check_ssl, false);
  const bookworm = getDistro('debian-12');
  const trixieDistro = getDistro('debian-13');
  assert.ok(bookworm && trixieDistro);
  const repos = packages.repositories(trixieDistro);
  assert.equal(repos.find((r) => r.id === 'source-insecure')?.verifyTls, false);
  const root = await openRoot({ stateDir: join(dir, 'roots'), repositories: repos });
  assert.match(
    readFileSync(root.configPath, 'utf8'),
    /^Acquire::https::insecure\.invalid::Verify-Peer "false";$/m,
  );
  assert.equal(
    packages.repositories(bookworm).some((r) => r.id === 'source-insecure'),
    false,
    'not a debian-12 repository',
  );
});
