import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { parseBlueprint } from '@debian-forge/blueprint';
import type { FastifyInstance } from 'fastify';
import { startTestApi } from '../api.fixture.ts';
import { debVersion, noDebianMirror, postText, weldrError } from './weldr.fixture.ts';

const TOML = 'text/x-toml';
const JSON_TYPE = 'application/json';

function push(app: FastifyInstance, body: string, contentType = TOML, route = 'new') {
  return postText(app, `/api/v0/blueprints/${route}`, body, contentType);
}

function get(app: FastifyInstance, url: string) {
  return app.inject({ method: 'GET', url });
}

const SERVER = `name = "server"
description = "A server"
version = "0.1.0"

[[packages]]
name = "openssh-server"
version = "*"

[customizations]
hostname = "box"
`;

test('blueprints: push, list with paging, info (JSON, TOML, workspace), changes, version bump', async (t) => {
  const { app } = await startTestApi(t);
  assert.equal((await push(app, SERVER)).statusCode, 200);
  assert.deepEqual((await push(app, SERVER)).json(), { status: true });
  for (const name of ['alpha', 'beta']) {
    const res = await push(app, JSON.stringify({ name, packages: [{ name: 'tmux' }] }), JSON_TYPE);
    assert.equal(res.statusCode, 200, res.body);
  }

  const total = (await get(app, '/api/v0/blueprints/list?limit=0')).json();
  assert.deepEqual(total, { total: 3, offset: 0, limit: 0, blueprints: [] });
  assert.deepEqual((await get(app, '/api/v1/blueprints/list')).json(), {
    total: 3,
    offset: 0,
    limit: 3,
    blueprints: ['alpha', 'beta', 'server'],
  });
  assert.deepEqual((await get(app, '/api/v0/blueprints/list?offset=1&limit=1')).json().blueprints, ['beta']);
  weldrError(await get(app, '/api/v0/blueprints/list?limit=x'), 400, 'BadLimitOrOffset', /'limit'/);

  // The same version pushed again is bumped; none given on a new blueprint is 0.0.0.
  const info = (await get(app, '/api/v0/blueprints/info/server,alpha,nope')).json();
  assert.equal(info.blueprints[0].version, '0.1.1');
  assert.equal(info.blueprints[1].version, '0.0.0');
  assert.deepEqual(info.changes, [
    { changed: false, name: 'server' },
    { changed: false, name: 'alpha' },
  ]);
  assert.deepEqual(info.errors, [{ id: 'UnknownBlueprint', msg: 'nope: ' }]);
  assert.deepEqual(info.blueprints[0].packages, [{ name: 'openssh-server', version: '*' }]);
  assert.deepEqual(info.blueprints[1].groups, []);

  // The workspace copy wins and says so; it keeps its version.
  const edited = SERVER.replace('hostname = "box"', 'hostname = "edited"');
  assert.equal((await push(app, edited, TOML, 'workspace')).statusCode, 200);
  const ws = (await get(app, '/api/v0/blueprints/info/server')).json();
  assert.deepEqual(ws.changes, [{ changed: true, name: 'server' }]);
  assert.equal(ws.blueprints[0].customizations.hostname, 'edited');
  assert.equal(ws.blueprints[0].version, '0.1.0');

  // TOML out parses back into the same blueprint.
  const toml = await get(app, '/api/v0/blueprints/info/server?format=toml');
  assert.equal(toml.statusCode, 200);
  assert.match(String(toml.headers['content-type']), /^application\/json; charset=utf-8/);
  assert.deepEqual(
    parseBlueprint(toml.body, 'toml'),
    parseBlueprint(JSON.stringify(ws.blueprints[0]), 'json'),
  );
  weldrError(
    await get(app, '/api/v0/blueprints/info/server,alpha?format=toml'),
    400,
    'HTTPError',
    'toml format only supported when requesting one blueprint',
  );
  weldrError(await get(app, '/api/v0/blueprints/info/nope?format=toml'), 400, 'UnknownBlueprint', 'nope: ');
  weldrError(
    await get(app, '/api/v0/blueprints/info/server?format=yaml'),
    400,
    'InvalidChars',
    'invalid format parameter: yaml',
  );

  // A new push drops the workspace copy. Explicit versions are kept as they are.
  const pushed = await push(app, JSON.stringify({ name: 'server', version: '2.0.0' }), JSON_TYPE);
  assert.equal(pushed.statusCode, 200);
  const after = (await get(app, '/api/v1/blueprints/info/server')).json();
  assert.deepEqual(after.changes, [{ changed: false, name: 'server' }]);
  assert.equal(after.blueprints[0].version, '2.0.0');

  const changes = (await get(app, '/api/v0/blueprints/changes/server,nope')).json();
  assert.equal(changes.blueprints[0].name, 'server');
  assert.equal(changes.blueprints[0].total, 3);
  assert.deepEqual(
    changes.blueprints[0].changes.map((c: { message: string }) => c.message),
    [
      'Recipe server, version 2.0.0 saved.',
      'Recipe server, version 0.1.1 saved.',
      'Recipe server, version 0.1.0 saved.',
    ],
  );
  const first = changes.blueprints[0].changes[0];
  assert.deepEqual(Object.keys(first), ['commit', 'message', 'revision', 'timestamp']);
  assert.match(first.commit, /^[0-9a-f]{40}$/);
  assert.match(first.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(first.revision, null);
  assert.deepEqual(changes.errors, [{ id: 'UnknownBlueprint', msg: 'nope' }]);
  assert.equal(changes.limit, 20);
  const counted = (await get(app, '/api/v0/blueprints/changes/server?limit=0')).json();
  assert.deepEqual(counted.blueprints, [{ changes: [], name: 'server', total: 3 }]);
  assert.equal(counted.limit, 0);
});

test('blueprints: change (v1 only), diff and its revspec quirk, tag, undo, delete', async (t) => {
  const { app } = await startTestApi(t);
  await push(app, SERVER);
  const v2 = SERVER.replace('version = "0.1.0"', 'version = "0.2.0"').replace('"openssh-server"', '"tmux"');
  await push(app, v2);
  const changes = (await get(app, '/api/v0/blueprints/changes/server')).json().blueprints[0].changes;
  const [newest, oldest] = changes as { commit: string }[];
  assert.ok(newest && oldest);

  const change = await get(app, `/api/v1/blueprints/change/server/${oldest.commit}`);
  assert.equal(change.statusCode, 200);
  assert.equal(change.json().version, '0.1.0');
  assert.equal(change.json().packages[0].name, 'openssh-server');
  const changeToml = await get(app, `/api/v1/blueprints/change/server/${oldest.commit}?format=toml`);
  assert.equal(parseBlueprint(changeToml.body, 'toml').version, '0.1.0');
  weldrError(
    await get(app, `/api/v0/blueprints/change/server/${oldest.commit}`),
    404,
    'HTTPError',
    'Not Found',
  );
  weldrError(await get(app, '/api/v1/blueprints/change/server/abc'), 400, 'UnknownCommit', 'Unknown commit');
  weldrError(await get(app, '/api/v1/blueprints/change/nope/abc'), 400, 'UnknownCommit', 'Unknown blueprint');

  // Diff: only NEWEST → WORKSPACE.
  const none = (await get(app, '/api/v0/blueprints/diff/server/NEWEST/WORKSPACE')).json();
  assert.deepEqual(none, { diff: [] });
  const ws = v2.replace('"tmux"', '"htop"');
  await push(app, ws, TOML, 'workspace');
  const diff = (await get(app, '/api/v0/blueprints/diff/server/NEWEST/WORKSPACE')).json();
  assert.deepEqual(diff.diff, [
    { old: null, new: { Package: { name: 'htop', version: '*' } } },
    { old: { Package: { name: 'tmux', version: '*' } }, new: null },
  ]);
  weldrError(
    await get(app, `/api/v0/blueprints/diff/server/${oldest.commit}/WORKSPACE`),
    400,
    'UnknownCommit',
    `ggit-error: revspec '${oldest.commit}' not found (-3)`,
  );
  weldrError(
    await get(app, '/api/v0/blueprints/diff/server/NEWEST/HEAD'),
    400,
    'UnknownCommit',
    "ggit-error: revspec 'HEAD' not found (-3)",
  );
  weldrError(
    await get(app, '/api/v0/blueprints/diff/nope/NEWEST/WORKSPACE'),
    404,
    'UnknownBlueprint',
    'Unknown blueprint name: nope',
  );

  // Tag: the latest change gets revision 1, tagging again changes nothing, the next change gets 2.
  const tag = () => app.inject({ method: 'POST', url: '/api/v0/blueprints/tag/server' });
  assert.deepEqual((await tag()).json(), { status: true });
  await tag();
  let latest = (await get(app, '/api/v0/blueprints/changes/server')).json().blueprints[0].changes;
  assert.equal(latest[0].revision, 1);
  weldrError(
    await app.inject({ method: 'POST', url: '/api/v0/blueprints/tag/nope' }),
    400,
    'BlueprintsError',
    'Unknown blueprint',
  );

  // Undo: the old blueprint comes back as a new change.
  const undo = await app.inject({ method: 'POST', url: `/api/v0/blueprints/undo/server/${oldest.commit}` });
  assert.deepEqual(undo.json(), { status: true });
  latest = (await get(app, '/api/v0/blueprints/changes/server')).json().blueprints[0].changes;
  assert.equal(latest[0].message, `server.toml reverted to commit ${oldest.commit}`);
  assert.equal(latest.length, 3);
  const reverted = (await get(app, '/api/v0/blueprints/info/server')).json();
  assert.equal(reverted.blueprints[0].packages[0].name, 'openssh-server');
  assert.equal(reverted.changes[0].changed, false);
  await tag();
  latest = (await get(app, '/api/v0/blueprints/changes/server')).json().blueprints[0].changes;
  assert.equal(latest[0].revision, 2);
  weldrError(
    await app.inject({ method: 'POST', url: '/api/v0/blueprints/undo/server/0123' }),
    400,
    'UnknownCommit',
    'Unknown commit',
  );
  weldrError(
    await app.inject({ method: 'POST', url: '/api/v0/blueprints/undo/nope/0123' }),
    400,
    'UnknownCommit',
    'Unknown blueprint',
  );

  // Workspace delete and delete.
  const del = (url: string) => app.inject({ method: 'DELETE', url });
  await push(app, ws, TOML, 'workspace');
  assert.deepEqual((await del('/api/v0/blueprints/workspace/server')).json(), { status: true });
  weldrError(
    await del('/api/v0/blueprints/workspace/server'),
    400,
    'BlueprintsError',
    'Unknown blueprint: server',
  );
  assert.deepEqual((await del('/api/v1/blueprints/delete/server')).json(), { status: true });
  weldrError(
    await del('/api/v1/blueprints/delete/server'),
    400,
    'BlueprintsError',
    'Unknown blueprint: server',
  );
  assert.equal((await get(app, '/api/v0/blueprints/list')).json().total, 0);

  // Wrong methods get a bare 405.
  const wrong = await app.inject({ method: 'GET', url: '/api/v0/blueprints/new' });
  assert.equal(wrong.statusCode, 405);
  assert.equal(wrong.body, '');
});

test('blueprints: bad input gets 4xx with a Weldr error id', async (t) => {
  const { app } = await startTestApi(t);
  const noType = await app.inject({ method: 'POST', url: '/api/v0/blueprints/new', payload: SERVER });
  weldrError(noType, 400, 'BlueprintsError', 'missing Content-Type header');
  weldrError(await push(app, ''), 400, 'BlueprintsError', 'Missing blueprint');
  weldrError(
    await push(app, SERVER, 'text/plain'),
    400,
    'BlueprintsError',
    '400 Bad Request: The browser (or proxy) sent a request that this server could not understand: blueprint must be in json or toml format',
  );
  weldrError(
    await push(app, 'name = "x"\n[[packages]\n'),
    400,
    'BlueprintsError',
    /^400 Bad Request: The browser \(or proxy\) sent a request that this server could not understand: TOML syntax error at line 2/,
  );
  weldrError(
    await push(app, '{"name": ', JSON_TYPE),
    400,
    'BlueprintsError',
    /^400 Bad Request: .*JSON syntax error/,
  );
  weldrError(
    await push(app, 'name = "x"\n[customizations]\nhostnme = "a"\n'),
    400,
    'BlueprintsError',
    /\.customizations\.hostnme: unknown key "hostnme"/,
  );
  weldrError(
    await push(app, 'name = "x"\nversion = "one"\n'),
    400,
    'BlueprintsError',
    /\.version: Invalid 'version'/,
  );
  weldrError(await push(app, 'name = "../x"\n'), 400, 'InvalidChars', 'Invalid characters in API path');
  weldrError(await push(app, 'name = "a/b"\n', TOML, 'workspace'), 400, 'InvalidChars');
  weldrError(
    await push(app, 'name = "x"\ndistro = "fedora-40"\n'),
    400,
    'BlueprintsError',
    /^'fedora-40' is not a valid distribution \(architecture '[a-z0-9_]+'\)$/,
  );

  // Names in paths: `/` and `..`, also URL-encoded, are refused before any lookup; %2C is a comma.
  for (const url of [
    '/api/v0/blueprints/info/a%2Fb',
    '/api/v0/blueprints/changes/a%2F..%2Fb',
    '/api/v1/blueprints/change/..%2F/abc',
    '/api/v0/blueprints/freeze/x%2F..',
  ]) {
    const res = await get(app, url);
    assert.equal(res.statusCode, 400, url);
    weldrError(res, 400, 'InvalidChars', 'Invalid characters in API path');
  }
  // ".." (also as %2E%2E) reaches the server only from a client that does not normalise paths
  // (inject and URL parsers do): raw requests on a socket.
  const { port } = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  for (const [method, path] of [
    ['GET', '/api/v0/blueprints/info/..'],
    ['GET', '/api/v0/blueprints/info/%2E%2E'],
    ['DELETE', '/api/v0/blueprints/delete/%2e%2e'],
    ['POST', '/api/v0/blueprints/undo/../abc'],
  ] as const) {
    const raw = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(raw.status, 400, path);
    assert.equal(JSON.parse(raw.body).errors[0].id, 'InvalidChars', path);
  }
  weldrError(await app.inject({ method: 'POST', url: '/api/v0/blueprints/tag/a%2Fb' }), 400, 'InvalidChars');
  await push(app, 'name = "a"\n');
  await push(app, 'name = "b"\n');
  const both = (await get(app, '/api/v0/blueprints/info/a%2Cb')).json();
  assert.deepEqual(
    both.blueprints.map((b: { name: string }) => b.name),
    ['a', 'b'],
  );

  // Bare multi-name routes are composer's 404; an empty name in a list is refused.
  for (const route of ['info', 'changes', 'freeze', 'depsolve']) {
    weldrError(await get(app, `/api/v0/blueprints/${route}/`), 404, 'HTTPError', 'Not Found');
  }
  weldrError(await get(app, '/api/v0/blueprints/info/a,,b'), 400, 'InvalidChars');

  // Plain-text passwords are stored crypted.
  await push(app, 'name = "u"\n[[customizations.user]]\nname = "admin"\npassword = "secret"\n');
  const user = (await get(app, '/api/v0/blueprints/info/u')).json().blueprints[0].customizations.user[0];
  assert.match(user.password, /^\$6\$/);
});

test('blueprints: names ".", ".." and longer than 100 characters are refused everywhere; nothing is stored', async (t) => {
  const { app, store } = await startTestApi(t);
  const long = 'b'.repeat(100_000);
  for (const route of ['new', 'workspace']) {
    for (const name of ['.', '..']) {
      weldrError(
        await push(app, `name = "${name}"\n`, TOML, route),
        400,
        'InvalidChars',
        'Invalid characters in API path',
      );
      weldrError(await push(app, JSON.stringify({ name }), JSON_TYPE, route), 400, 'InvalidChars');
    }
    for (const [body, type] of [
      [`name = "${long}"\n`, TOML],
      [JSON.stringify({ name: long }), JSON_TYPE],
    ] as const) {
      weldrError(
        await push(app, body, type, route),
        400,
        'InvalidChars',
        'blueprint name too long: 100000 characters, at most 100 allowed',
      );
    }
  }
  assert.deepEqual((await get(app, '/api/v0/blueprints/list')).json().blueprints, []);
  assert.equal(store.blueprints.workspace.get('..'), undefined);
  // In paths too: every route that takes a name says what is wrong (inject knows no header limit).
  const name101 = 'b'.repeat(101);
  for (const [method, url] of [
    ['GET', `/api/v0/blueprints/info/${name101}`],
    ['GET', `/api/v0/blueprints/changes/a,${name101}`],
    ['GET', `/api/v0/blueprints/freeze/${name101}`],
    ['GET', `/api/v0/blueprints/depsolve/${name101}`],
    ['GET', `/api/v0/blueprints/diff/${name101}/NEWEST/WORKSPACE`],
    ['GET', `/api/v1/blueprints/change/${name101}/abc`],
    ['POST', `/api/v0/blueprints/tag/${name101}`],
    ['POST', `/api/v0/blueprints/undo/${name101}/abc`],
    ['DELETE', `/api/v0/blueprints/delete/${name101}`],
    ['DELETE', `/api/v0/blueprints/workspace/${name101}`],
  ] as const) {
    const res = await app.inject({ method, url });
    weldrError(res, 400, 'InvalidChars', 'blueprint name too long: 101 characters, at most 100 allowed');
  }
  // The longest name allowed goes in, and out again.
  const name100 = 'b'.repeat(100);
  assert.equal((await push(app, `name = "${name100}"\n`)).statusCode, 200);
  assert.deepEqual((await get(app, '/api/v0/blueprints/list')).json().blueprints, [name100]);
  assert.equal(
    (await app.inject({ method: 'DELETE', url: `/api/v0/blueprints/delete/${name100}` })).statusCode,
    200,
  );
});

test('blueprints: JSON and TOML nested deeper than 1000 levels are a 400 BlueprintsError, not a stack overflow', async (t) => {
  const { app } = await startTestApi(t);
  for (const depth of [1000, 10_000, 100_000]) {
    const json = `{"name":"deep","customizations":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    weldrError(
      await push(app, json, JSON_TYPE),
      400,
      'BlueprintsError',
      /^400 Bad Request: .*: JSON document nests objects and arrays deeper than 1000 levels \(at line 1 column 1032 /,
    );
    weldrError(
      await push(app, json, JSON_TYPE, 'workspace'),
      400,
      'BlueprintsError',
      /deeper than 1000 levels/,
    );
    const dotted = `name = "deep"\n${Array.from({ length: depth + 1 }, () => 'a').join('.')} = 1\n`;
    weldrError(
      await push(app, dotted),
      400,
      'BlueprintsError',
      /TOML document nests tables and arrays deeper/,
    );
  }
  // Just inside the limit: an ordinary refusal of what the blueprint holds.
  const inside = `{"name":"deep","customizations":${'['.repeat(998)}${']'.repeat(998)}}`;
  weldrError(
    await push(app, inside, JSON_TYPE),
    400,
    'BlueprintsError',
    /\.customizations: expected a table/,
  );
});

test('blueprints: a plain-text password is hashed on push and in the workspace; no view shows it', async (t) => {
  const a = await startTestApi(t);
  const secret = 'plain-secret-0815';
  const bp = (version: string) =>
    `name = "pw"\nversion = "${version}"\n[[customizations.user]]\nname = "admin"\npassword = "${secret}"\n`;
  assert.equal((await push(a.app, bp('0.0.1'))).statusCode, 200);
  assert.equal((await push(a.app, bp('0.0.2'), TOML, 'workspace')).statusCode, 200);
  const views = [
    '/api/v0/blueprints/info/pw',
    '/api/v0/blueprints/info/pw?format=toml',
    '/api/v1/blueprints/changes/pw',
    '/api/v0/blueprints/diff/pw/NEWEST/WORKSPACE',
  ];
  for (const url of views) {
    const res = await get(a.app, url);
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    assert.ok(!res.body.includes(secret), `${url} shows the password`);
  }
  const info = (await get(a.app, '/api/v0/blueprints/info/pw')).json();
  assert.match(info.blueprints[0].customizations.user[0].password, /^\$6\$[./0-9A-Za-z]{16}\$/);
  // What SQLite keeps: every table that holds a blueprint.
  const stored = [
    a.store.blueprints.get('pw'),
    a.store.blueprints.workspace.get('pw'),
    a.store.blueprints.changes('pw', { offset: 0, limit: 10 }),
  ];
  assert.ok(!JSON.stringify(stored).includes(secret));
});

test('blueprints: bodies over the limit are refused with 413 and a Weldr error id', async (t) => {
  const small = await startTestApi(t, { bodyLimit: 1024 });
  const big = `name = "big"\ndescription = "${'x'.repeat(2048)}"\n`;
  weldrError(await push(small.app, big), 413, 'HTTPError');
  assert.equal((await push(small.app, 'name = "fits"\n')).statusCode, 200);

  // 100 MB against the default limit, streamed in 1 MiB chunks of one shared buffer.
  const { app } = await startTestApi(t);
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= 100) this.push(null);
      else {
        sent++;
        this.push(chunk);
      }
    },
  });
  const res = await app.inject({
    method: 'POST',
    url: '/api/v0/blueprints/new',
    headers: { 'content-type': TOML },
    payload: body,
  });
  weldrError(res, 413, 'HTTPError');
  assert.equal((await get(app, '/api/v0/blueprints/list')).json().total, 0);
});

test('blueprints: depsolve and freeze against the real Debian index', {
  skip: noDebianMirror(),
}, async (t) => {
  const { app } = await startTestApi(t);
  await push(
    app,
    'name = "tools"\ndistro = "debian-12"\n[[packages]]\nname = "tmux"\n[[packages]]\nname = "libevent-core-2.1*"\n',
  );
  await push(app, 'name = "broken"\ndistro = "debian-12"\n[[packages]]\nname = "no-such-package-here"\n');

  const dep = await get(app, '/api/v0/blueprints/depsolve/tools,broken,nope');
  assert.equal(dep.statusCode, 200);
  const body = dep.json();
  assert.deepEqual(
    body.blueprints.map((b: { blueprint: { name: string } }) => b.blueprint.name),
    ['tools', 'broken'],
  );
  const deps = body.blueprints[0].dependencies as Record<string, unknown>[];
  const tmux = deps.find((d) => d.name === 'tmux');
  assert.ok(tmux, 'tmux is in its own depsolve');
  assert.deepEqual(Object.keys(tmux), [
    'name',
    'epoch',
    'version',
    'release',
    'arch',
    'remote_location',
    'checksum',
  ]);
  assert.equal(typeof tmux.epoch, 'number');
  assert.match(String(tmux.version), /^\d/);
  assert.equal(tmux.arch, 'amd64');
  assert.match(String(tmux.checksum), /^sha256:[0-9a-f]{64}$/);
  assert.match(String(tmux.remote_location), /\/tmux_.*\.deb$/);
  assert.ok(deps.some((d) => d.name === 'libevent-core-2.1-7'));
  assert.deepEqual(body.blueprints[1].dependencies, []);
  assert.equal(body.errors.length, 2);
  assert.equal(body.errors[0].id, 'BlueprintsError');
  assert.match(body.errors[0].msg, /^broken: .*no-such-package-here/);
  assert.deepEqual(body.errors[1], { id: 'UnknownBlueprint', msg: 'nope: blueprint not found' });

  // Freeze: exact Debian versions (the same the depsolve chose), globs expanded.
  const frozen = (await get(app, '/api/v0/blueprints/freeze/tools')).json();
  assert.deepEqual(frozen.errors, []);
  const pkgs = frozen.blueprints[0].blueprint.packages as { name: string; version: string }[];
  assert.deepEqual(
    pkgs,
    ['libevent-core-2.1-7', 'tmux'].map((name) => ({
      name,
      version: debVersion(
        deps.find((d) => d.name === name) as { epoch: unknown; version: unknown; release: unknown },
      ),
    })),
  );
  const toml = await get(app, '/api/v0/blueprints/freeze/tools?format=toml');
  assert.deepEqual(parseBlueprint(toml.body, 'toml').packages, pkgs);
  const empty = await get(app, '/api/v0/blueprints/freeze/nope?format=toml');
  assert.equal(empty.statusCode, 200);
  assert.equal(empty.body, '');
  const stops = (await get(app, '/api/v0/blueprints/freeze/broken,tools')).json();
  assert.deepEqual(stops.blueprints, []);
  assert.equal(stops.errors.length, 1);
  assert.equal(stops.errors[0].id, 'BlueprintsError');
  weldrError(
    await get(app, '/api/v0/blueprints/freeze/tools,tools?format=toml'),
    400,
    'HTTPError',
    'toml format only supported when requesting one blueprint',
  );
});
