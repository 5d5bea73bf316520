/**
 * Faults of the artifacts directory, against the real `forge serve` (one per describe, with its
 * worker): a full one (a small tmpfs filled to the brim) and one that cannot be written (a
 * read-only bind mount: root ignores file modes). A compose whose image cannot be stored ends
 * FAILED with the reason, the worker's upload gets a 5xx (not a 400: it is not the client's fault)
 * and goes on with the next job, nothing half written stays, the other routes keep answering, and
 * once the directory is usable again the next compose completes. The builds are raw manifests
 * without packages (org.osbuild.truncate), so no mirror is needed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { sandboxUnavailable, tempDir } from './engine.fixture.ts';
import { sh } from './engine-host.fixture.ts';
import { composeImage, ended } from './faults.fixture.ts';

/** Why mounts cannot be made here (not root, or no mount(8) that works), or undefined. */
function mountUnavailable(): string | undefined {
  const sandbox = sandboxUnavailable();
  if (sandbox) return sandbox;
  const probe = tempDir('forge-mount-probe-');
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe.path], { encoding: 'utf8' });
    if (r.status !== 0) return `cannot mount a tmpfs: ${r.stderr.trim()}`;
    spawnSync('umount', [probe.path]);
    return undefined;
  } finally {
    probe.cleanup();
  }
}

const skip = mountUnavailable();
if (skip) console.log(`# skipping the artifacts-directory fault tests: ${skip}`);

async function logOf(serve: Serve, id: string): Promise<string> {
  return (await call({ socket: serve.socket }, 'GET', `/api/v0/compose/log/${id}`)).text();
}

/** A Weldr `?test=2` compose of blueprint `faults` (its fake image goes to the artifacts directory). */
async function fakeCompose(serve: Serve) {
  return call(
    { socket: serve.socket },
    'POST',
    '/api/v0/compose?test=2',
    JSON.stringify({ blueprint_name: 'faults', compose_type: 'tar', branch: 'master' }),
    { 'content-type': 'application/json' },
  );
}

/** Waits (5 s at most) until the service has printed something that matches `pattern`. */
async function saidBy(serve: Serve, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(serve.output()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(serve.output(), pattern);
}

/** Files and directories under `dir`, relative to it. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** The routes that do not write into the artifacts directory all answer as usual. */
async function othersAnswer(serve: Serve): Promise<number> {
  const s = { socket: serve.socket };
  const tcp = { url: serve.url, token: serve.token };
  const answers = [
    await call(s, 'GET', '/api/status'),
    await call(tcp, 'GET', '/api/v0/blueprints/list'),
    await call(s, 'POST', '/api/v0/blueprints/new', 'name = "other"\nversion = "0.0.1"\n', {
      'content-type': 'text/x-toml',
    }),
    await call(tcp, 'GET', '/api/forge/v1/queue'),
    await call(s, 'GET', '/api/v0/compose/failed'),
    await call(s, 'GET', '/api/forge/v1/workers'),
  ];
  for (const a of answers) assert.equal(a.status, 200, a.text());
  return answers.length;
}

async function pushBlueprint(serve: Serve): Promise<void> {
  const res = await call(
    { socket: serve.socket },
    'POST',
    '/api/v0/blueprints/new',
    'name = "faults"\nversion = "0.0.1"\n',
    {
      'content-type': 'text/x-toml',
    },
  );
  assert.equal(res.status, 200, res.text());
}

describe('a full artifacts directory (a 8 MiB tmpfs)', { skip, timeout: 10 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let artifacts: string;
  let serve: Serve;
  before(async () => {
    dir = tempDir('forge-faults-full-');
    artifacts = join(dir.path, 'state', 'artifacts');
    mkdirSync(artifacts, { recursive: true });
    sh(['mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', artifacts]);
    serve = await startServe(join(dir.path, 'state'), ['--workers', '1']);
    await pushBlueprint(serve);
  });
  after(async () => {
    await serve?.stop(); // SIGTERM: its redis-server stops with it
    spawnSync('umount', [artifacts]);
    dir?.cleanup();
  });

  it('a compose whose image does not fit: FAILED with the reason, a 507 to the worker, nothing left', async () => {
    // Filled to the last block.
    const fd = openSync(join(artifacts, 'filler'), 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(64 * 1024));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
    const t0 = Date.now();
    const id = await composeImage(serve, '32M');
    const view = await ended(serve, id);
    console.log(`a 32 MiB image into a full 8 MiB directory: ${view.state} after ${Date.now() - t0} ms`);
    assert.equal(view.state, 'FAILED');
    assert.equal(view.error?.code, 'FORGE_ERR_ARTIFACTS_FULL');
    assert.match(
      view.error?.message ?? '',
      /^the artifacts directory is full: cannot store disk\.img \(33554432 bytes\) in .*: ENOSPC: no space left on device/,
    );
    assert.match(await logOf(serve, id), /\[forge\] compose failed: the artifacts directory is full: /);
    // What the worker heard: the API's 507, at once (not a 400, not retried, no connection reset).
    // It says so just after the API has failed the compose.
    await saidBy(
      serve,
      /the API refused the artifact: 507 FORGE_ERR_ARTIFACTS_FULL: the artifacts directory is full/,
    );
    assert.doesNotMatch(serve.output(), /uploading disk\.img failed/);
    assert.deepEqual(listing(artifacts), ['filler'], 'no .part file, no empty directory');
  });

  it('a ?test=2 compose, whose fake image goes there too: a 5xx and FAILED', async () => {
    const res = await fakeCompose(serve);
    // Weldr answers a server fault 500 (weldr-client reads only 400, 404 and 500), with its code.
    assert.equal(res.status, 500, res.text());
    const [error] = (res.json() as { errors: { id: string; msg: string }[] }).errors;
    assert.equal(error?.id, 'FORGE_ERR_ARTIFACTS_FULL');
    const id = /compose ([0-9a-f-]{36}) FAILED/.exec(error?.msg ?? '')?.[1] as string;
    const view = await ended(serve, id, 5000);
    assert.equal(view.state, 'FAILED');
    assert.match(view.error?.message ?? '', /^the artifacts directory is full: cannot store root\.tar/);
    assert.deepEqual(listing(artifacts), ['filler'], 'nothing half written');
  });

  it('the other routes answer meanwhile', async () => {
    assert.equal(await othersAnswer(serve), 6);
  });

  it('once there is room again, the next composes complete', async () => {
    rmSync(join(artifacts, 'filler'));
    const view = await ended(serve, await composeImage(serve, '1M'));
    assert.equal(view.state, 'COMPLETED', JSON.stringify(view.error));
    const fake = await fakeCompose(serve);
    assert.equal(fake.status, 200, fake.text());
    const image = await call({ socket: serve.socket }, 'GET', `/api/v0/compose/image/${view.id}`);
    assert.equal(image.status, 200);
    assert.equal(image.body.length, 1024 ** 2);
  });
});

describe('an artifacts directory that cannot be written (a read-only bind mount)', {
  skip,
  timeout: 10 * 60_000,
}, () => {
  let dir: ReturnType<typeof tempDir>;
  let artifacts: string;
  let serve: Serve;
  before(async () => {
    dir = tempDir('forge-faults-ro-');
    artifacts = join(dir.path, 'state', 'artifacts');
    mkdirSync(artifacts, { recursive: true });
    serve = await startServe(join(dir.path, 'state'), ['--workers', '1']);
    await pushBlueprint(serve);
    sh(['mount', '--bind', artifacts, artifacts]);
    sh(['mount', '-o', 'remount,bind,ro', artifacts]);
  });
  after(async () => {
    await serve?.stop(); // SIGTERM: its redis-server stops with it
    spawnSync('umount', [artifacts]);
    dir?.cleanup();
  });

  it('a compose: FAILED with the reason, a 500 to the worker; ?test=2 alike; the rest answers', async () => {
    const id = await composeImage(serve, '1M');
    const view = await ended(serve, id);
    assert.equal(view.state, 'FAILED');
    assert.equal(view.error?.code, 'FORGE_ERR_ARTIFACTS_UNWRITABLE');
    assert.match(
      view.error?.message ?? '',
      /^the artifacts directory is not writable: cannot store disk\.img .*EROFS/,
    );
    await saidBy(serve, /the API refused the artifact: 500 FORGE_ERR_ARTIFACTS_UNWRITABLE/);
    const fake = await fakeCompose(serve);
    assert.equal(fake.status, 500, fake.text());
    assert.match(fake.text(), /FORGE_ERR_ARTIFACTS_UNWRITABLE/);
    assert.equal(await othersAnswer(serve), 6);
  });

  it('writable again: the next compose completes', async () => {
    sh(['umount', artifacts]);
    const view = await ended(serve, await composeImage(serve, '1M'));
    assert.equal(view.state, 'COMPLETED', JSON.stringify(view.error));
  });
});
