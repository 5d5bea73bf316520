/**
 * The web UI against the real `forge serve` (its private Redis, its SQLite file) in Debian's
 * chromium: what is served without a token and how, the login, and the views.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { browserUnavailable, laptopPage, loggedInPage, screenshot, webRig } from '@debian-forge/web/testing';

const skip = browserUnavailable();
const rig = webRig('web-ui-', skip);

const blueprint = (name: string, description = '') =>
  JSON.stringify({ name, description, version: '0.0.1', packages: [{ name: 'curl' }] });

test('the page and its bundle are served without a token, the API still needs one', { skip }, async () => {
  const page = await call({ url: rig.serve.url }, 'GET', '/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  const script = /src="(ui\/app-[A-Z0-9]+\.js)"/.exec(page.text())?.[1];
  assert.ok(script, page.text());
  const bundle = await call({ url: rig.serve.url }, 'GET', `/${script}`);
  assert.equal(bundle.status, 200);
  assert.match(String(bundle.headers['cache-control']), /immutable/);
  assert.match(String(bundle.headers['content-type']), /javascript/);
  const compressed = await call({ url: rig.serve.url }, 'GET', `/${script}`, undefined, {
    'accept-encoding': 'br, gzip',
  });
  assert.equal(compressed.headers['content-encoding'], 'br');
  assert.ok(compressed.body.length < bundle.body.length / 2, 'the brotli form is sent when accepted');

  assert.equal((await call({ url: rig.serve.url }, 'GET', '/api/forge/v1/health')).status, 401);
  assert.equal((await call({ url: rig.serve.url }, 'GET', '/api/v1/blueprints/list')).status, 401);
});

test('nothing outside the bundle is reachable through /ui/', { skip }, async () => {
  const token = readFileSync(join(rig.serve.stateDir, 'api-token'), 'utf8').trim();
  for (const path of [
    '/ui/../api-token',
    '/ui/%2e%2e/api-token',
    '/ui/%2e%2e%2f%2e%2e%2fapi-token',
    '/ui/..%2f..%2fapi-token',
    '/ui/../../state/api-token',
    '/ui/',
  ]) {
    const answer = await call({ url: rig.serve.url }, 'GET', path);
    assert.notEqual(answer.status, 200, path);
    assert.ok(!answer.text().includes(token), `${path} gave the token away`);
  }
});

test('log in: a wrong token is refused with a message, the right one opens the blueprints', {
  skip,
}, async () => {
  const page = await laptopPage(rig.browser);
  await page.goto(rig.serve.url);
  await page.getByLabel('Access token').fill('not-the-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('The service refused this token.').waitFor();
  await screenshot(page, 'login');

  await page.getByLabel('Access token').fill(rig.serve.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Blueprints', exact: true }).waitFor();

  // The token lasts for the tab: a reload keeps the session, a new tab asks again.
  await page.reload();
  await page.getByRole('heading', { name: 'Blueprints', exact: true }).waitFor();
  const other = await page.context().newPage();
  await other.goto(rig.serve.url);
  await other.getByLabel('Access token').waitFor();

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Access token').waitFor();
  await page.context().close();
});

test('the blueprint list searches by name, pages, and deletes after asking', { skip }, async () => {
  const auth = { url: rig.serve.url, token: rig.serve.token };
  for (let i = 0; i < 25; i++) {
    const name = `list-${String(i).padStart(2, '0')}`;
    const r = await call(auth, 'POST', '/api/v1/blueprints/new', blueprint(name, `number ${i}`), {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 200, r.text());
  }
  const page = await loggedInPage(rig);
  const table = page.getByRole('grid', { name: 'Blueprints' });
  await table.getByText('number 0', { exact: true }).waitFor();
  assert.equal(await table.locator('tbody tr').count(), 20, 'the first page holds 20');
  await screenshot(page, 'blueprints');

  await page.getByLabel('Search blueprints').fill('list-2');
  await table.getByText('number 24').waitFor();
  assert.equal(await table.locator('tbody tr').count(), 5, 'list-20 to list-24');

  await page.getByRole('button', { name: 'Delete list-24' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await table.getByText('number 24').waitFor({ state: 'detached' });
  const names = (await call(auth, 'GET', '/api/v1/blueprints/list?limit=100')).json() as {
    blueprints: string[];
  };
  assert.ok(!names.blueprints.includes('list-24'));
  assert.ok(names.blueprints.includes('list-23'));
  await page.context().close();
});

test('the system view shows the version, health and queue', { skip }, async () => {
  const page = await loggedInPage(rig, '#/system');
  await page.getByRole('heading', { name: 'System', exact: true }).waitFor();
  await page.getByText('ok', { exact: true }).waitFor();
  await page.getByText('0.1.0').first().waitFor();
  await screenshot(page, 'system');
  await page.context().close();
});
