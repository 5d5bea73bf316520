/**
 * Input that broke `forge serve` for good (issue 10, items 4 and 8), tried against the real service
 * (the CLI as a child process, its own state directory, no workers) over the unix socket and TCP:
 *
 * - a new line in each field of a package source (a "Trusted: yes" line reached apt's sources
 *   file): 400, nothing stored, and no apt sources file under the state directory holds such a
 *   line after a depsolve;
 * - blueprint and source names ".", ".." and 100,000 characters long: 400, nothing stored, the
 *   lists still answer;
 * - JSON nested 10,000 and 100,000 levels deep on Weldr, Cloud and Forge routes: 400, never a 5xx;
 * - a state directory whose SQLite already holds such rows (written straight into the database
 *   the service made, as an earlier version could have): every row is listed under a name that
 *   works and can be deleted, and one bad source does not break depsolves.
 *
 * The depsolves need the host's Debian mirror; without one in the host's apt sources they are
 * skipped, with the reason printed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Answer, call } from '@debian-forge/api/testing/http-client';
import { DEBIAN_ARCHIVE_KEYRING, debianRepositories } from '@debian-forge/apt';
import { validateBlueprint } from '@debian-forge/blueprint';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import Database from 'better-sqlite3';
import { tempDir } from './engine.fixture.ts';

const skip = existsSync('/usr/bin/redis-server') ? undefined : 'needs redis-server (scripts/debian-packages)';
if (skip) console.log(`# skipping the input attack tests: ${skip}`);

/** The host's Debian mirror (the first URI of its Debian sources), or why there is none. */
function hostMirror(): { uri: string } | { skip: string } {
  try {
    const uri = debianRepositories('bookworm')[0]?.uris[0];
    return uri ? { uri: uri.replace(/\/+$/, '') } : { skip: 'no Debian URI in the host apt sources' };
  } catch (err) {
    return { skip: `no Debian repository in the host's apt sources: ${(err as Error).message}` };
  }
}
const mirror = hostMirror();
const mirrorSkip = 'skip' in mirror ? mirror.skip : undefined;
if (mirrorSkip) console.log(`# skipping the depsolves of the input attack tests: ${mirrorSkip}`);
const MIRROR = 'uri' in mirror ? mirror.uri : 'http://mirror.invalid/debian';

const INJECT = '\nTrusted: yes';
const JSON_TYPE = { 'content-type': 'application/json' };
const TOML_TYPE = { 'content-type': 'text/x-toml' };
const LONG = 'n'.repeat(100_000);
const PROBE = 'name = "probe"\n\n[[packages]]\nname = "hello"\n';

type Target = { socket: string } | { url: string; token: string };

/** Every attack tried, with the answer it got; the suites print the tally. */
const tally = { tried: 0, refused: 0 };

/** Sends one attack and asserts the answer: `status` (400 by default), never a 5xx. */
async function refused(
  target: Target,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  check: (a: Answer) => void = () => {},
): Promise<Answer> {
  tally.tried++;
  const answer = await call(target, method, path, body, headers);
  assert.ok(answer.status < 500, `${method} ${path}: ${answer.status} ${answer.text().slice(0, 300)}`);
  assert.equal(answer.status, 400, `${method} ${path}: ${answer.text().slice(0, 300)}`);
  tally.refused++;
  check(answer);
  return answer;
}

/** The Weldr error id of an answer. */
const weldrId = (a: Answer) => (a.json() as { errors: { id: string }[] }).errors[0]?.id;

/** The text of every apt sources file and apt.conf under the state directory's apt roots. */
function aptFiles(stateDir: string): { path: string; text: string }[] {
  const roots = join(stateDir, 'apt');
  if (!existsSync(roots)) return [];
  return readdirSync(roots).flatMap((root) =>
    ['etc/apt/sources.list.d/forge.sources', 'etc/apt/apt.conf']
      .map((f) => join(roots, root, f))
      .filter((p) => existsSync(p))
      .map((path) => ({ path, text: readFileSync(path, 'utf8') })),
  );
}

/** Depsolves the probe blueprint; returns its dependencies' names. */
async function depsolveProbe(target: Target): Promise<string[]> {
  const answer = await call(target, 'GET', '/api/v0/blueprints/depsolve/probe');
  assert.equal(answer.status, 200, answer.text());
  const body = answer.json() as {
    blueprints: { dependencies: { name: string }[] }[];
    errors: { msg: string }[];
  };
  assert.deepEqual(body.errors, []);
  return body.blueprints[0]?.dependencies.map((d) => d.name) ?? [];
}

function noInjectedLine(stateDir: string): void {
  const files = aptFiles(stateDir);
  assert.ok(
    files.some((f) => f.path.endsWith('forge.sources')),
    'a depsolve wrote an apt sources file',
  );
  for (const f of files) {
    assert.doesNotMatch(f.text, /^Trusted:/m, f.path);
    assert.doesNotMatch(f.text, /injected/, f.path);
  }
}

describe('input attacks against forge serve', { skip, timeout: 10 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  let socket: Target;
  let tcp: Target;
  before(async () => {
    dir = tempDir('forge-security-input-');
    serve = await startServe(join(dir.path, 'state'), ['--workers', '0']);
    socket = { socket: serve.socket };
    tcp = { url: serve.url, token: serve.token };
  });
  after(async () => {
    console.log(
      `# input attacks: ${tally.tried} tried, ${tally.refused} refused with 400 where they enter, none answered 5xx`,
    );
    await serve?.stop();
    dir.cleanup();
  });

  it('a new line in any field of a source is refused with 400, over the socket and TCP; nothing is stored', async () => {
    const base = {
      id: 'injected',
      name: 'injected',
      type: 'deb',
      url: MIRROR,
      suites: ['bookworm'],
      components: ['contrib'],
      signed_by: [DEBIAN_ARCHIVE_KEYRING],
    };
    const fields: [string, Record<string, unknown>, 'ProjectsError' | 'InvalidChars'][] = [
      ['url', { url: `${MIRROR}${INJECT}` }, 'ProjectsError'],
      ['suites', { suites: [`bookworm${INJECT}`] }, 'ProjectsError'],
      ['components', { components: [`contrib${INJECT}`] }, 'ProjectsError'],
      ['signed_by', { signed_by: [`${DEBIAN_ARCHIVE_KEYRING}${INJECT}`] }, 'ProjectsError'],
      ['gpgkeys', { signed_by: undefined, gpgkeys: [`${DEBIAN_ARCHIVE_KEYRING}${INJECT}`] }, 'ProjectsError'],
      ['name (v1)', { name: `injected${INJECT}` }, 'ProjectsError'],
      ['id (v1)', { id: `injected${INJECT}` }, 'InvalidChars'],
    ];
    for (const [target, version] of [
      [socket, 'v1'],
      [tcp, 'v1'],
    ] as const) {
      for (const [field, change, id] of fields) {
        const body = JSON.stringify({ ...base, ...change });
        await refused(target, 'POST', `/api/${version}/projects/source/new`, body, JSON_TYPE, (a) =>
          assert.equal(weldrId(a), id, `${field}: ${a.text()}`),
        );
      }
    }
    // v0 keys a source by its name; TOML as composer-cli sends it.
    await refused(
      socket,
      'POST',
      '/api/v0/projects/source/new',
      JSON.stringify({ ...base, name: `x${INJECT}` }),
      JSON_TYPE,
      (a) => assert.equal(weldrId(a), 'InvalidChars'),
    );
    const toml = `id = "injected"\nname = "injected"\ntype = "deb"\nurl = ${JSON.stringify(`${MIRROR}${INJECT}`)}\n`;
    await refused(tcp, 'POST', '/api/v1/projects/source/new', toml, TOML_TYPE, (a) =>
      assert.equal(weldrId(a), 'ProjectsError'),
    );
    const list = await call(tcp, 'GET', '/api/v1/projects/source/list');
    assert.equal(list.status, 200);
    assert.ok(
      !(list.json() as { sources: string[] }).sources.some((s) => s.startsWith('injected')),
      list.text(),
    );
  });

  it("a new line in a Cloud compose's repository is refused where it enters", async () => {
    const body = JSON.stringify({
      distribution: 'debian-12',
      image_request: {
        architecture: 'x86_64',
        image_type: 'tar',
        repositories: [{ baseurl: `${MIRROR}${INJECT}`, check_gpg: true }],
      },
      customizations: { packages: ['hello'] },
    });
    await refused(tcp, 'POST', '/api/image-builder-composer/v2/compose', body, JSON_TYPE, (a) =>
      assert.equal((a.json() as { id: string }).id, 'InvalidCustomization', a.text()),
    );
    for (const f of aptFiles(serve.stateDir)) assert.doesNotMatch(f.text, /^Trusted:/m, f.path);
  });

  it('names ".", ".." and 100,000 characters long are refused with 400; nothing is stored and the lists answer', async () => {
    for (const target of [socket, tcp]) {
      for (const name of ['.', '..', LONG]) {
        for (const route of ['new', 'workspace']) {
          await refused(
            target,
            'POST',
            `/api/v0/blueprints/${route}`,
            JSON.stringify({ name }),
            JSON_TYPE,
            (a) => assert.equal(weldrId(a), 'InvalidChars'),
          );
          await refused(target, 'POST', `/api/v1/blueprints/${route}`, `name = "${name}"\n`, TOML_TYPE, (a) =>
            assert.equal(weldrId(a), 'InvalidChars'),
          );
        }
        const source = { id: name, name, type: 'deb', url: MIRROR };
        await refused(target, 'POST', '/api/v1/projects/source/new', JSON.stringify(source), JSON_TYPE, (a) =>
          assert.equal(weldrId(a), 'InvalidChars'),
        );
        await refused(target, 'POST', '/api/v0/projects/source/new', JSON.stringify(source), JSON_TYPE, (a) =>
          assert.equal(weldrId(a), 'InvalidChars'),
        );
      }
      const long = await refused(
        target,
        'POST',
        '/api/v0/blueprints/new',
        JSON.stringify({ name: LONG }),
        JSON_TYPE,
      );
      assert.equal(
        (long.json() as { errors: { msg: string }[] }).errors[0]?.msg,
        'blueprint name too long: 100000 characters, at most 100 allowed',
      );
      await refused(target, 'DELETE', `/api/v1/projects/source/delete/${'n'.repeat(101)}`, undefined, {});
    }
    // ".." in a path from a client that does not resolve it (a URL parser would: raw over the socket).
    await refused(socket, 'DELETE', '/api/v0/blueprints/delete/%2E%2E', undefined, {}, (a) =>
      assert.equal(weldrId(a), 'InvalidChars'),
    );
    const blueprints = await call(tcp, 'GET', '/api/v0/blueprints/list');
    assert.equal(blueprints.status, 200);
    assert.deepEqual((blueprints.json() as { blueprints: string[] }).blueprints, []);
    const sources = await call(socket, 'GET', '/api/v1/projects/source/info/*');
    assert.equal(sources.status, 200);
    for (const [id, s] of Object.entries(
      (sources.json() as { sources: Record<string, { system: boolean }> }).sources,
    )) {
      assert.equal(s.system, true, `only system sources are left: ${id}`);
    }
  });

  it('JSON nested 10,000 and 100,000 levels deep gets a 400 on Weldr, Cloud and Forge routes, never a 5xx', async () => {
    for (const depth of [10_000, 100_000]) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const routes: [string, string, string][] = [
        ['POST', '/api/v0/blueprints/new', `{"name":"deep","customizations":${deep}}`],
        ['POST', '/api/v1/blueprints/workspace', `{"name":"deep","packages":${deep}}`],
        [
          'POST',
          '/api/v1/projects/source/new',
          `{"id":"deep","name":"deep","type":"deb","url":"${MIRROR}","suites":${deep}}`,
        ],
        ['POST', '/api/v0/compose', `{"blueprint_name":"deep","compose_type":"tar","upload":${deep}}`],
        [
          'POST',
          '/api/image-builder-composer/v2/compose',
          `{"distribution":"debian-12","image_request":{"architecture":"x86_64","image_type":"tar"},"customizations":{"x":${deep}}}`,
        ],
        [
          'POST',
          '/api/image-builder-composer/v2/depsolve/blueprint',
          `{"blueprint":{"name":"deep","x":${deep}}}`,
        ],
        [
          'POST',
          '/api/forge/v1/manifests',
          `{"manifest":{"version":"2","pipelines":${deep}},"exports":["os"],"filename":"f"}`,
        ],
        [
          'PUT',
          '/api/forge/v1/composes/00000000-0000-4000-8000-000000000000/priority',
          `{"priority":${deep}}`,
        ],
      ];
      for (const target of [socket, tcp]) {
        for (const [method, path, body] of routes) {
          await refused(target, method, path, body, JSON_TYPE, (a) =>
            assert.match(a.text(), /deeper than 1000 levels/, `${path}: ${a.text().slice(0, 300)}`),
          );
        }
      }
    }
    const blueprints = await call(socket, 'GET', '/api/v0/blueprints/list');
    assert.deepEqual((blueprints.json() as { blueprints: string[] }).blueprints, []);
  });

  it('after all of that, a depsolve writes apt sources without an injected line', {
    skip: mirrorSkip,
  }, async () => {
    const good = {
      id: 'extra',
      name: 'Extra',
      type: 'deb',
      url: MIRROR,
      suites: ['bookworm'],
      components: ['contrib'],
      signed_by: [DEBIAN_ARCHIVE_KEYRING],
    };
    const added = await call(socket, 'POST', '/api/v1/projects/source/new', JSON.stringify(good), JSON_TYPE);
    assert.equal(added.status, 200, added.text());
    const pushed = await call(tcp, 'POST', '/api/v0/blueprints/new', PROBE, TOML_TYPE);
    assert.equal(pushed.status, 200, pushed.text());
    assert.ok((await depsolveProbe(tcp)).includes('hello'));
    noInjectedLine(serve.stateDir);
    assert.ok(
      aptFiles(serve.stateDir).some((f) => f.text.includes('# source-extra\n')),
      'the good source was used',
    );
  });
});

describe('a state directory whose SQLite already holds rows the rules refuse', {
  skip,
  timeout: 10 * 60_000,
}, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  let socket: Target;
  let tcp: Target;
  const NOW = '2026-01-02T03:04:05.000Z';
  before(async () => {
    dir = tempDir('forge-security-rows-');
    const stateDir = join(dir.path, 'state');
    // The service makes its database, then an earlier version's rows go straight into it.
    const first = await startServe(stateDir, ['--workers', '0']);
    assert.equal(await first.stop(), 0);
    const db = new Database(join(stateDir, 'state.sqlite'));
    const bp = db.prepare(
      'INSERT INTO blueprints (name, version, blueprint, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    const change = db.prepare(
      'INSERT INTO blueprint_changes (name, commit_id, timestamp, message, blueprint) VALUES (?, ?, ?, ?, ?)',
    );
    const source = db.prepare(
      `INSERT INTO sources (name, display_name, url, suites, components, signed_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      // Blueprints as the store keeps them: normalised, every key filled in.
      const stored = validateBlueprint({ name: 'x', version: '0.0.1', packages: [{ name: 'hello' }] });
      for (const [i, name] of ['.', '..', LONG, 'probe'].entries()) {
        const json = JSON.stringify({ ...stored, name });
        bp.run(name, '0.0.1', json, NOW, NOW);
        change.run(name, String(i + 1).repeat(40), '2026-01-02T03:04:05Z', 'saved', json);
      }
      const keyring = JSON.stringify([DEBIAN_ARCHIVE_KEYRING]);
      // A long key (once a 431 on delete) on a good repository, and a new line in a URL.
      source.run(LONG, LONG, MIRROR, '["bookworm"]', '["contrib"]', keyring, NOW, NOW);
      source.run('..', 'Dots', MIRROR, '["bookworm"]', '["non-free"]', keyring, NOW, NOW);
      source.run('injected', 'injected', `${MIRROR}${INJECT}`, '[]', '[]', '[]', NOW, NOW);
    })();
    db.close();
    serve = await startServe(stateDir, ['--workers', '0']);
    socket = { socket: serve.socket };
    tcp = { url: serve.url, token: serve.token };
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  it('lists every row under a name that works, says what it renamed, and deletes each', async () => {
    // One warning each in the service's log (pino's JSON, so quotes come escaped).
    assert.match(serve.output(), /stored blueprint \\"\.\.\\" renamed to \\"renamed-[0-9a-f]{8}\\"/);
    assert.match(serve.output(), /stored source \\"n{60}\\"… \(100000 characters\) renamed to/);
    const list = await call(tcp, 'GET', '/api/v0/blueprints/list');
    assert.equal(list.status, 200);
    const names = (list.json() as { blueprints: string[] }).blueprints;
    assert.equal(names.length, 4, names.join(' '));
    assert.ok(names.includes('probe'));
    assert.ok(
      names.every((n) => /^[a-zA-Z0-9._-]{1,100}$/.test(n) && n !== '.' && n !== '..'),
      names.join(' '),
    );
    // Each is read with its history, over the socket, by the name it is listed under.
    for (const name of names) {
      const info = await call(socket, 'GET', `/api/v0/blueprints/info/${name}`);
      assert.equal(info.status, 200, info.text());
      assert.equal((info.json() as { blueprints: { name: string }[] }).blueprints[0]?.name, name);
      const changes = await call(socket, 'GET', `/api/v0/blueprints/changes/${name}`);
      assert.equal((changes.json() as { blueprints: { total: number }[] }).blueprints[0]?.total, 1);
    }
    const sources = await call(socket, 'GET', '/api/v1/projects/source/list');
    const user = (sources.json() as { sources: string[] }).sources.filter(
      (s) => s === 'injected' || /-[0-9a-f]{8}$/.test(s),
    );
    assert.equal(user.length, 3, sources.text());
    // Deleted, every one of them, the probe blueprint and the long-named source last.
    for (const name of names.filter((n) => n !== 'probe')) {
      const deleted = await call(tcp, 'DELETE', `/api/v0/blueprints/delete/${name}`);
      assert.equal(deleted.status, 200, deleted.text());
    }
    const injected = await call(tcp, 'DELETE', '/api/v1/projects/source/delete/injected');
    assert.equal(injected.status, 200, injected.text());
    const dots = user.find((s) => s.startsWith('renamed-')) as string;
    assert.equal((await call(socket, 'DELETE', `/api/v1/projects/source/delete/${dots}`)).status, 200);
    const left = await call(socket, 'GET', '/api/v0/blueprints/list');
    assert.deepEqual((left.json() as { blueprints: string[] }).blueprints, ['probe']);
  });

  it('one stored source with a new line in its URL does not break depsolves', {
    skip: mirrorSkip,
  }, async () => {
    // Put back the bad one the last test deleted, as an earlier version stored it.
    const db = new Database(join(serve.stateDir, 'state.sqlite'));
    db.prepare(
      `INSERT OR REPLACE INTO sources (name, display_name, url, created_at, updated_at) VALUES ('injected', 'injected', ?, ?, ?)`,
    ).run(`${MIRROR}${INJECT}`, NOW, NOW);
    db.close();
    assert.ok((await depsolveProbe(socket)).includes('hello'));
    noInjectedLine(serve.stateDir);
    const used = aptFiles(serve.stateDir).find((f) => /# source-n{60}-[0-9a-f]{8}\n/.test(f.text));
    assert.ok(used, 'the renamed long-named source was used');
    assert.match(serve.output(), /source \\"injected\\" is left out of depsolves and package queries: 'url'/);
  });
});
