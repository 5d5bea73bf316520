/**
 * The Cockpit page: installed by `forge cockpit-page install` where cockpit-bridge finds packages
 * ($XDG_DATA_HOME/cockpit), served by Debian's cockpit-ws with a local session (the bridge runs as
 * the user running the test, no login), opened in chromium, and reaching the real `forge serve`
 * over its unix socket through `cockpit.http` — no token anywhere.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { browserUnavailable, laptopPage, screenshot, webRig } from '@debian-forge/web/testing';
import type { BrowserContext } from 'playwright-core';
import { forge } from './engine.fixture.ts';

const COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws';
const COCKPIT_BRIDGE = '/usr/bin/cockpit-bridge';

function cockpitUnavailable(): string | undefined {
  if (!existsSync(COCKPIT_WS)) return `needs ${COCKPIT_WS} (apt-get install cockpit-ws)`;
  if (!existsSync(COCKPIT_BRIDGE)) return `needs ${COCKPIT_BRIDGE} (apt-get install cockpit-bridge)`;
  return browserUnavailable();
}

const skip = cockpitUnavailable();
if (skip) process.stdout.write(`# web-cockpit: skipped, ${skip}\n`);

// cockpit-ws stops before the rig does (after hooks run in the order they were added).
after(async () => {
  if (ws && ws.exitCode === null) {
    ws.kill('SIGTERM');
    await once(ws, 'exit');
  }
});
const rig = webRig('web-cockpit-', skip);

let ws: ChildProcess | undefined;
let base: string;
const xdg = () => join(rig.dir, 'xdg');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** cockpit-ws serving a logged-in session of the bridge on loopback, with our XDG_DATA_HOME. */
async function startCockpitWs(): Promise<string> {
  const port = await freePort();
  ws = spawn(
    COCKPIT_WS,
    ['--no-tls', '--local-session=cockpit-bridge', '--port', String(port), '--address', '127.0.0.1'],
    { env: { ...process.env, XDG_DATA_HOME: xdg() }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  ws.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await fetch(`${url}/cockpit/static/login.html`).then(
      (r) => r.status > 0,
      () => false,
    );
    if (up) return url;
    if (ws.exitCode !== null || Date.now() > deadline) throw new Error(`cockpit-ws did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('forge cockpit-page install writes the page and its socket, replaces its own install only', {
  skip,
}, async () => {
  const dest = join(rig.dir, 'pages', 'debian-forge');
  const first = forge(['cockpit-page', 'install', '--dest', dest, '--socket', '/run/one.socket']);
  assert.equal(first.status, 0, first.stderr);
  for (const file of ['manifest.json', 'index.html', 'app.js', 'app.css'])
    assert.ok(existsSync(join(dest, file)), file);
  assert.deepEqual(JSON.parse(readFileSync(join(dest, 'config.json'), 'utf8')), {
    socket: '/run/one.socket',
  });

  const again = forge(['cockpit-page', 'install', '--dest', dest, '--socket', '/run/two.socket']);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dest, 'config.json'), 'utf8')), {
    socket: '/run/two.socket',
  });

  // The default socket is forge serve's: STATE-DIR/api.socket.
  const byState = forge(['cockpit-page', 'install', '--dest', dest, '--state-dir', '/srv/forge']);
  assert.equal(byState.status, 0, byState.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dest, 'config.json'), 'utf8')), {
    socket: '/srv/forge/api.socket',
  });

  // A directory that is not an installed page is never replaced.
  const other = join(rig.dir, 'pages', 'precious');
  mkdirSync(other);
  writeFileSync(join(other, 'keep'), 'mine');
  const refused = forge(['cockpit-page', 'install', '--dest', other, '--socket', '/run/x.socket']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /precious exists and is not a Debian Forge page installed before/);
  assert.equal(readFileSync(join(other, 'keep'), 'utf8'), 'mine');

  for (const socket of ['relative.socket', '/run/a\nb']) {
    const bad = forge(['cockpit-page', 'install', '--dest', dest, '--socket', socket]);
    assert.equal(bad.status, 1, socket);
    assert.match(bad.stderr, /the socket must be an absolute path/);
  }
  const usage = forge(['cockpit-page', 'remove']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown action 'remove'/);
});

test('the Cockpit page lists the blueprints over the unix socket through cockpit-ws and the bridge', {
  skip,
}, async () => {
  for (const name of ['cockpit-one', 'cockpit-two']) {
    const body = JSON.stringify({ name, description: `made for ${name}`, version: '0.0.1', packages: [] });
    const r = await call({ socket: rig.serve.socket }, 'POST', '/api/v1/blueprints/new', body, {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 200, r.text());
  }
  const page = join(xdg(), 'cockpit', 'debian-forge');
  const installed = forge(['cockpit-page', 'install', '--dest', page, '--socket', rig.serve.socket]);
  assert.equal(installed.status, 0, installed.stderr);
  // A second page whose socket has no service behind it says so instead of an empty list.
  const lost = join(xdg(), 'cockpit', 'debian-forge-lost');
  const broken = forge(['cockpit-page', 'install', '--dest', lost, '--socket', join(rig.dir, 'no.socket')]);
  assert.equal(broken.status, 0, broken.stderr);
  base = await startCockpitWs();

  // One context for both pages: the local session ends when its last page closes.
  const tab = await laptopPage(rig.browser);
  const context: BrowserContext = tab.context();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(e.message));
  tab.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await tab.goto(`${base}/cockpit/@localhost/debian-forge/index.html`);
  const table = tab.getByRole('grid', { name: 'Blueprints' });
  await table.getByText('made for cockpit-one', { exact: true }).waitFor();
  await table.getByText('made for cockpit-two', { exact: true }).waitFor();
  assert.deepEqual(errors, [], 'no script error and no CSP refusal');
  await screenshot(tab, 'cockpit');

  // A write and the service's own error come back through the bridge as they do over fetch.
  await tab.getByRole('button', { name: 'Delete cockpit-two' }).click();
  await tab.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await table.getByText('made for cockpit-two').waitFor({ state: 'detached' });
  const names = (await call({ socket: rig.serve.socket }, 'GET', '/api/v1/blueprints/list')).json() as {
    blueprints: string[];
  };
  assert.deepEqual(names.blueprints, ['cockpit-one']);

  await tab.goto(`${base}/cockpit/@localhost/debian-forge/index.html#/system`);
  await tab.getByRole('heading', { name: 'System', exact: true }).waitFor();
  await tab.getByText('ok', { exact: true }).waitFor();

  const other = await context.newPage();
  await other.goto(`${base}/cockpit/@localhost/debian-forge-lost/index.html`);
  await other.getByText(/cannot be reached: .*no\.socket/).waitFor();
  await context.close();
});
