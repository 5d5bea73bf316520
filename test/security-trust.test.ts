/**
 * What `forge serve` trusts, attacked over its real listeners (the real CLI as a child process, no
 * workers):
 *
 * - a TCP client that sends a write request without a token and resets the connection at once
 *   (SO_LINGER 0, then close; its socket then has no remote address, as a unix socket's has) on
 *   every write route, hundreds of times, with nothing stored afterwards;
 * - two services on one state directory with different sockets, started at the same moment and
 *   one after the other: exactly one runs, the other says why in one line (exit 1) and touches
 *   nothing; after a SIGKILL of the one, the next starts;
 * - the modes of the state directory and what is in it (0700/0600, 0750 with the socket group),
 *   loose ones tightened at start; an unknown socket group refused before anything starts.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { forgeChild, type Serve, serveStatePaths, startServe } from '@debian-forge/cli/testing/serve';
import { pidAlive } from '@debian-forge/host';
import { tempDir } from './engine.fixture.ts';

const redisMissing = !existsSync('/usr/bin/redis-server');
const skip = redisMissing ? 'needs redis-server (scripts/debian-packages)' : undefined;
if (skip) console.log(`# skipping the trust tests of forge serve: ${skip}`);

const JSON_TYPE = 'application/json';

interface Route {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

const json = (method: string, path: string, value: unknown): Route => ({
  method,
  path,
  body: JSON.stringify(value),
  headers: { 'content-type': JSON_TYPE },
});

/** One HTTP/1.1 request as bytes, with or without a bearer token. */
function rawRequest(route: Route, token?: string): string {
  const body = route.body ?? '';
  const head = [
    `${route.method} ${route.path} HTTP/1.1`,
    'Host: forge',
    ...Object.entries(route.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(token ? [`Authorization: Bearer ${token}`] : []),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Opens a TCP connection, writes `request` and resets the connection as soon as the bytes are with
 * the kernel (resetAndDestroy: SO_LINGER 0, then close), without reading an answer.
 */
function sendAndReset(url: string, request: string): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port) }, () => {
      sock.write(request, () => sock.resetAndDestroy());
    });
    sock.on('error', () => {});
    sock.on('close', () => resolve());
  });
}

const MANIFEST = { version: '2', pipelines: [{ name: 'image', stages: [] }], sources: {} };
/** A repository nothing answers on, so a Cloud compose that got in would fail fast, offline. */
const NOWHERE = 'http://127.0.0.1:9/debian';

const blueprintToml = (name: string, version: string) =>
  `name = "${name}"\ndescription = "trust test"\nversion = "${version}"\n`;

describe('forge serve: a TCP request reset by its client is not trusted', { skip, timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  let unix: { socket: string };
  /** The compose of `?test=2` (COMPLETED, with an artifact) and a raw manifest's (QUEUED). */
  let finished: string;
  let queued: string;
  let firstCommit: string;

  before(async () => {
    dir = tempDir('forge-trust-reset-');
    serve = await startServe(join(dir.path, 'state'), ['--workers', '0']);
    unix = { socket: serve.socket };
    const toml = { 'content-type': 'text/x-toml' };
    for (const version of ['0.0.1', '0.0.2']) {
      const r = await call(unix, 'POST', '/api/v0/blueprints/new', blueprintToml('victim', version), toml);
      assert.equal(r.status, 200, r.text());
    }
    const changes = await call(unix, 'GET', '/api/v0/blueprints/changes/victim');
    const list = (changes.json() as { blueprints: { changes: { commit: string }[] }[] }).blueprints[0]
      ?.changes;
    firstCommit = list?.at(-1)?.commit ?? '';
    // The test compose first: it resolves its packages as a build does, and the source below
    // points nowhere.
    const body = JSON.stringify({ blueprint_name: 'victim', compose_type: 'tar', branch: 'master' });
    const fake = await call(unix, 'POST', '/api/v0/compose?test=2', body, { 'content-type': JSON_TYPE });
    assert.equal(fake.status, 200, fake.text());
    finished = (fake.json() as { build_id: string }).build_id;
    const source = { name: 'victim-src', type: 'deb', url: NOWHERE, suites: ['bookworm'] };
    const src = await call(unix, 'POST', '/api/v0/projects/source/new', JSON.stringify(source), {
      'content-type': JSON_TYPE,
    });
    assert.equal(src.status, 200, src.text());
    const raw = JSON.stringify({ manifest: MANIFEST, exports: ['image'], filename: 'disk.raw' });
    const man = await call(unix, 'POST', '/api/forge/v1/manifests', raw, { 'content-type': JSON_TYPE });
    assert.equal(man.status, 201, man.text());
    queued = (man.json() as { id: string }).id;
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  /**
   * Every write route of the four API families (`n` numbers what they create). The v1 upload
   * routes are left out: they answer 501 and store nothing, whoever asks.
   */
  const writeRoutes = (n: number): Route[] => {
    const bytes = 'not an image\n';
    return [
      json('POST', '/api/v1/blueprints/new', { name: `evil-${n}`, version: '0.0.1' }),
      {
        method: 'POST',
        path: '/api/v0/blueprints/new',
        body: blueprintToml(`evil-toml-${n}`, '0.0.1'),
        headers: { 'content-type': 'text/x-toml' },
      },
      json('POST', '/api/v0/blueprints/workspace', { name: 'victim', description: 'evil' }),
      { method: 'DELETE', path: '/api/v0/blueprints/workspace/victim' },
      { method: 'DELETE', path: '/api/v0/blueprints/delete/victim' },
      { method: 'POST', path: '/api/v0/blueprints/tag/victim' },
      { method: 'POST', path: `/api/v0/blueprints/undo/victim/${firstCommit}` },
      json('POST', '/api/v0/projects/source/new', { name: `evil-src-${n}`, type: 'deb', url: NOWHERE }),
      { method: 'DELETE', path: '/api/v0/projects/source/delete/victim-src' },
      json('POST', '/api/v0/compose?test=2', {
        blueprint_name: 'victim',
        compose_type: 'tar',
        branch: 'master',
      }),
      { method: 'DELETE', path: `/api/v0/compose/delete/${finished}` },
      { method: 'DELETE', path: `/api/v0/compose/cancel/${queued}` },
      json('POST', '/api/forge/v1/manifests', {
        manifest: MANIFEST,
        exports: ['image'],
        filename: 'evil.raw',
      }),
      json('PUT', `/api/forge/v1/composes/${queued}/priority`, { priority: 999 }),
      json('POST', `/api/forge/v1/composes/${queued}/priority`, { priority: 998 }),
      { method: 'POST', path: `/api/forge/v1/composes/${queued}/cancel` },
      {
        method: 'PUT',
        path: `/api/forge/v1/composes/${queued}/artifact?filename=evil.raw`,
        body: bytes,
        headers: {
          'content-type': 'application/octet-stream',
          'x-forge-sha256': createHash('sha256').update(bytes).digest('hex'),
        },
      },
      json('POST', '/api/image-builder-composer/v2/compose', {
        distribution: 'debian-12',
        image_request: {
          architecture: 'x86_64',
          image_type: 'guest-image',
          repositories: [{ baseurl: NOWHERE }],
        },
      }),
    ];
  };

  /** What the service holds, read over the unix socket. */
  async function snapshot() {
    const get = async <T = Record<string, unknown>>(path: string) => {
      const r = await call(unix, 'GET', path);
      assert.equal(r.status, 200, `${path}: ${r.text()}`);
      return r.json() as T;
    };
    const compose = async (id: string) => {
      const r = await call(unix, 'GET', `/api/forge/v1/composes/${id}`);
      const c = r.json() as { state: string; priority: number; artifacts: unknown[] };
      return { status: r.status, state: c.state, priority: c.priority, artifacts: c.artifacts };
    };
    return {
      blueprints: await get('/api/v0/blueprints/list?limit=1000'),
      victim: await get('/api/v0/blueprints/info/victim'),
      changes: await get('/api/v0/blueprints/changes/victim?limit=1000'),
      sources: await get('/api/v1/projects/source/list'),
      composes: (await get<{ id: string }[]>('/api/image-builder-composer/v2/composes/'))
        .map((c) => c.id)
        .sort(),
      finished: await compose(finished),
      queued: await compose(queued),
    };
  }

  /** Snapshots until two in a row agree (the service has handled what reached it). */
  async function settled() {
    let last = await snapshot();
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = await snapshot();
      if (JSON.stringify(now) === JSON.stringify(last)) return now;
      last = now;
    }
  }

  it('the trick reaches the router: with the token, reset requests are carried out', async (t) => {
    const tries = 100;
    for (let i = 0; i < tries; i++) {
      const route = json('POST', '/api/v1/blueprints/new', { name: `control-${i}`, version: '0.0.1' });
      await sendAndReset(serve.url, rawRequest(route, serve.token));
    }
    const names = ((await settled()).blueprints.blueprints as string[]).filter((b) =>
      b.startsWith('control-'),
    );
    t.diagnostic(`${names.length} of ${tries} reset requests with the token were stored`);
    assert.ok(names.length > 0, 'no reset request was handled at all: this test would prove nothing');
    for (const name of names) {
      assert.equal((await call(unix, 'DELETE', `/api/v0/blueprints/delete/${name}`)).status, 200);
    }
  });

  it('no write route runs without a token when the client resets the connection', async (t) => {
    const before = await settled();
    const rounds = 40;
    let sent = 0;
    for (let n = 0; n < rounds; n++) {
      // One round: every write route at once, each on its own connection.
      await Promise.all(
        writeRoutes(n).map((route) => {
          sent++;
          return sendAndReset(serve.url, rawRequest(route));
        }),
      );
    }
    const afterwards = await settled();
    t.diagnostic(`${sent} reset requests without a token on ${writeRoutes(0).length} write routes`);
    assert.deepEqual(afterwards, before, 'a request without a token changed what the service holds');
    // Without the reset, each of them is answered 401.
    for (const route of writeRoutes(rounds)) {
      const r = await call({ url: serve.url }, route.method, route.path, route.body, route.headers);
      assert.equal(r.status, 401, `${route.method} ${route.path}: ${r.text()}`);
    }
  });
});

/** A `forge serve` that either got ready or exited. */
interface Launched {
  child: ChildProcess;
  ready: boolean;
  /** The exit code when it exited instead. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `forge serve --state-dir DIR --listen none --workers 0 ARGS`; resolves once it is ready or has exited. */
function launch(stateDir: string, args: string[]): Promise<Launched> {
  const child = forgeChild(['serve', '--state-dir', stateDir, '--listen', 'none', '--workers', '0', ...args]);
  const l: Launched = { child, ready: false, code: null, stdout: '', stderr: '' };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`forge serve neither started nor exited:\n${l.stdout}${l.stderr}`));
    }, 60_000);
    child.stdout?.on('data', (b: Buffer) => {
      l.stdout += b.toString();
      if (!l.ready && /forge serve: ready/.test(l.stdout)) {
        l.ready = true;
        clearTimeout(timer);
        resolve(l);
      }
    });
    child.stderr?.on('data', (b: Buffer) => {
      l.stderr += b.toString();
    });
    child.once('exit', (code) => {
      l.code = code;
      clearTimeout(timer);
      resolve(l);
    });
  });
}

/** Sends `signal` (SIGKILL after 30 s) and waits for the exit; returns the exit code. */
async function stopLaunched(l: Launched, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (l.child.exitCode !== null || l.child.signalCode !== null) return l.child.exitCode;
  const exited = once(l.child, 'exit');
  l.child.kill(signal);
  const timer = setTimeout(() => l.child.kill('SIGKILL'), 30_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code as number | null;
}

/** A refusal as the issue asks for it: exit 1, one line on standard error, no stack trace. */
function assertRefused(l: Launched, pattern: RegExp): void {
  assert.equal(l.ready, false, `it started:\n${l.stdout}`);
  assert.equal(l.code, 1, l.stdout + l.stderr);
  assert.match(l.stderr, pattern);
  assert.equal(l.stderr.trimEnd().split('\n').length, 1, `more than one line:\n${l.stderr}`);
  assert.doesNotMatch(l.stderr, /^\s+at /m);
}

const refusedHere = (stateDir: string) =>
  new RegExp(
    `^forge serve: another forge serve is running on ${stateDir} \\(it holds ${stateDir}/serve\\.lock\\)\n$`,
  );

describe('forge serve: one service per state directory', { skip, timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  const running: Launched[] = [];
  before(() => {
    dir = tempDir('forge-trust-lock-');
    state = join(dir.path, 'state');
  });
  after(async () => {
    for (const l of running) await stopLaunched(l);
    dir.cleanup();
  });

  const socketAt = (name: string) => join(dir.path, `${name}.socket`);
  const answers = async (socket: string) => (await call({ socket }, 'GET', '/api/status')).status === 200;

  it('two started at the same moment with different sockets: exactly one runs, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      const both = await Promise.all([
        launch(state, ['--socket', socketAt(`a${round}`)]),
        launch(state, ['--socket', socketAt(`b${round}`)]),
      ]);
      running.push(...both);
      const winners = both.filter((l) => l.ready);
      assert.equal(winners.length, 1, both.map((l) => l.stdout + l.stderr).join('\n---\n'));
      const loser = both.find((l) => !l.ready) as Launched;
      assertRefused(loser, refusedHere(state));
      const winner = winners[0] as Launched;
      const own = both[0] === winner ? socketAt(`a${round}`) : socketAt(`b${round}`);
      const other = both[0] === winner ? socketAt(`b${round}`) : socketAt(`a${round}`);
      assert.ok(await answers(own));
      assert.ok(!existsSync(other), 'the refused one made its socket');
      assert.equal(await stopLaunched(winner), 0, winner.stdout + winner.stderr);
    }
  });

  it('one after the other: the second is refused and leaves the first and its Redis alone; after SIGKILL the next starts', async () => {
    const first = await launch(state, ['--socket', socketAt('first')]);
    running.push(first);
    assert.ok(first.ready, first.stdout + first.stderr);
    const redisPid = Number(readFileSync(serveStatePaths(state).redisPid, 'utf8'));
    for (const args of [['--socket', socketAt('second')], []]) {
      const second = await launch(state, args);
      running.push(second);
      assertRefused(second, refusedHere(state));
    }
    assert.ok(pidAlive(redisPid), "the refused ones stopped the first one's redis-server");
    assert.equal(Number(readFileSync(serveStatePaths(state).redisPid, 'utf8')), redisPid);
    assert.ok(await answers(socketAt('first')));
    assert.ok(!existsSync(socketAt('second')));

    // The kernel releases the lock with the process; the redis-server it leaves behind holds
    // nothing of it.
    await stopLaunched(first, 'SIGKILL');
    const next = await launch(state, ['--socket', socketAt('next')]);
    running.push(next);
    assert.ok(next.ready, next.stdout + next.stderr);
    assert.ok(await answers(socketAt('next')));
    assert.equal(await stopLaunched(next), 0, next.stdout + next.stderr);
  });
});

/** The mode bits of `path` (no file type). */
const modeOf = (path: string) => statSync(path).mode & 0o7777;

/** Every file and directory under `path` (the path included) with its mode. */
function modesUnder(path: string): Record<string, number> {
  const all: Record<string, number> = { [path]: modeOf(path) };
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) Object.assign(all, modesUnder(join(path, name)));
  }
  return all;
}

/** A group of /etc/group other than root's, for --socket-group. */
function someGroup(): { name: string; gid: number } | undefined {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid && Number(gid) !== 0) return { name, gid: Number(gid) };
  }
  return undefined;
}

describe('forge serve: the state directory is its own', { skip, timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  let serve: Serve | undefined;
  before(() => {
    dir = tempDir('forge-trust-modes-');
    state = join(dir.path, 'state');
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  /** Pushes a blueprint and makes a `?test=2` compose (with a fake image) over the socket. */
  async function composeOnce(s: Serve): Promise<string> {
    const unix = { socket: s.socket };
    const bp = await call(unix, 'POST', '/api/v0/blueprints/new', blueprintToml('modes', '0.0.1'), {
      'content-type': 'text/x-toml',
    });
    assert.equal(bp.status, 200, bp.text());
    const body = JSON.stringify({ blueprint_name: 'modes', compose_type: 'tar', branch: 'master' });
    const r = await call(unix, 'POST', '/api/v0/compose?test=2', body, { 'content-type': JSON_TYPE });
    assert.equal(r.status, 200, r.text());
    return (r.json() as { build_id: string }).build_id;
  }

  /** What the service keeps private: the directory, the database, the token, the lock, the images. */
  function assertPrivate(expectDir: number) {
    assert.equal(modeOf(state), expectDir, `the state directory is ${modeOf(state).toString(8)}`);
    for (const name of ['state.sqlite', 'state.sqlite-wal', 'state.sqlite-shm', 'api-token', 'serve.lock']) {
      assert.equal(modeOf(join(state, name)), 0o600, `${name} is ${modeOf(join(state, name)).toString(8)}`);
    }
    for (const [path, mode] of Object.entries(modesUnder(join(state, 'artifacts')))) {
      const want = statSync(path).isDirectory() ? 0o700 : 0o600;
      assert.equal(mode, want, `${path} is ${mode.toString(8)}`);
    }
    assert.equal(modeOf(join(state, 'api.socket')), 0o660);
  }

  it('a new state directory is 0700, its files 0600, the images 0600 in 0700 directories', async () => {
    serve = await startServe(state, ['--workers', '0']);
    const uuid = await composeOnce(serve);
    assert.ok(existsSync(join(state, 'artifacts', uuid)), 'the fake image is in artifacts/');
    assertPrivate(0o700);
    assert.equal(await serve.stop(), 0);
    serve = undefined;
  });

  it('loose modes of an existing state directory are tightened at start', async () => {
    chmodSync(state, 0o755);
    for (const [path] of Object.entries(modesUnder(join(state, 'artifacts')))) {
      chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
    }
    for (const name of ['state.sqlite', 'state.sqlite-wal', 'state.sqlite-shm', 'api-token', 'serve.lock']) {
      if (existsSync(join(state, name))) chmodSync(join(state, name), 0o644);
    }
    mkdirSync(join(state, 'store'), { recursive: true });
    chmodSync(join(state, 'store'), 0o755);
    serve = await startServe(state, ['--workers', '0']);
    assertPrivate(0o700);
    assert.equal(
      modeOf(join(state, 'store')),
      0o700,
      'every entry of the directory loses its group and other bits',
    );
    assert.equal(await serve.stop(), 0);
    serve = undefined;
  });

  it('with --socket-group the directory is 0750 with that group, so its members reach the sockets', async (t) => {
    const group = someGroup();
    if (!group) {
      t.skip('no group other than root in /etc/group');
      return;
    }
    const cloud = join(dir.path, 'cloudapi', 'api.socket');
    serve = await startServe(state, [
      '--workers',
      '0',
      '--socket-group',
      group.name,
      '--cloud-socket',
      cloud,
    ]);
    assertPrivate(0o750);
    assert.equal(statSync(state).gid, group.gid);
    assert.equal(statSync(serve.socket).gid, group.gid);
    assert.equal(statSync(cloud).gid, group.gid, 'the Cloud API socket has the group too');
    assert.equal(modeOf(cloud), 0o660);
    assert.equal(await serve.stop(), 0);
    serve = await startServe(state, ['--workers', '0']);
    assertPrivate(0o700);
    assert.equal(await serve.stop(), 0);
    serve = undefined;
  });

  it('an unknown --socket-group is one line and exit 1, before anything is made', async (t) => {
    const fresh = join(dir.path, 'never-made');
    const r = await launch(fresh, ['--socket-group', 'no-such-group-forge']);
    t.after(() => stopLaunched(r));
    assertRefused(r, /^forge serve: --socket-group no-such-group-forge: no such group in \/etc\/group\n$/);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(fresh), 'the state directory was made');
  });

  it('a shared directory (sticky bit, as /tmp) is refused as a state directory', async (t) => {
    const shared = join(dir.path, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const r = await launch(shared, []);
    t.after(() => stopLaunched(r));
    assertRefused(r, /^forge serve: the state directory .* is shared \(sticky bit, as \/tmp\)/);
    assert.equal(modeOf(shared), 0o1777, 'its mode was changed');
    assert.deepEqual(readdirSync(shared), []);
  });
});
