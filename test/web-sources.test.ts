/**
 * The Sources view against the real `forge serve` in chromium: the host's system sources and the
 * user's with their checks, adding one through the form (the API's refusals shown under the field
 * they name), and removing one after asking.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { browserUnavailable, loggedInPage, screenshot, webRig } from '@debian-forge/web/testing';
import type { Page } from 'playwright-core';

const skip = browserUnavailable();
const web = webRig('web-sources-', skip);
const auth = () => ({ url: web.serve.url, token: web.serve.token });

async function sourcesPage(): Promise<Page> {
  const page = await loggedInPage(web, '#/sources');
  await page.getByRole('heading', { name: 'Sources', exact: true }).waitFor();
  return page;
}

async function sourceInfo(id: string): Promise<Record<string, unknown> | undefined> {
  const answer = await call(auth(), 'GET', `/api/v1/projects/source/info/${id}`);
  return (answer.json() as { sources: Record<string, Record<string, unknown>> }).sources[id];
}

test('the list shows each source with its checks; system sources cannot be removed', { skip }, async () => {
  const body = JSON.stringify({
    id: 'listed-unchecked',
    name: 'Listed, unchecked',
    type: 'deb',
    url: 'http://deb.example.org/debian',
    suites: ['bookworm'],
    check_gpg: false,
  });
  const added = await call(auth(), 'POST', '/api/v1/projects/source/new', body, {
    'content-type': 'application/json',
  });
  assert.equal(added.status, 200, added.text());
  const { sources: ids } = (await call(auth(), 'GET', '/api/v1/projects/source/list')).json() as {
    sources: string[];
  };

  const page = await sourcesPage();
  const table = page.getByRole('grid', { name: 'Sources' });
  const row = table.getByRole('row').filter({ hasText: 'listed-unchecked' });
  await row.getByText('GPG not checked').waitFor();
  await row.getByText('TLS checked').waitFor();
  await row.getByRole('button', { name: 'Remove listed-unchecked' }).waitFor();

  const system = ids.filter((id) => id !== 'listed-unchecked');
  assert.ok(system.length > 0, 'the host has system sources');
  for (const id of system) {
    // The row's text starts with the id and its System label.
    const systemRow = table
      .getByRole('row')
      .filter({ hasText: new RegExp(`^${id.replace(/\W/g, '\\$&')}\\s*System`) });
    await systemRow.getByText('Cannot be removed').waitFor();
    assert.equal(await systemRow.getByRole('button', { name: `Remove ${id}` }).count(), 0, id);
  }
  assert.equal(await table.locator('tbody tr').count(), ids.length);
  await screenshot(page, 'sources');
  await page.context().close();
});

test("adding a source: the API's refusals under their fields, then the source in the list", {
  skip,
}, async () => {
  const page = await sourcesPage();
  await page.getByRole('button', { name: 'Add source' }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel('ID').fill('bad id!');
  await form.getByLabel('Name').fill('Backports');
  await form.getByLabel('URL').fill('ftp://deb.example.org/debian');
  await form.getByRole('button', { name: 'Add source' }).click();
  const idGroup = form.locator('.pf-v6-c-form__group').filter({ has: page.locator('#source-id') });
  await idGroup.getByText('Invalid characters in API path (InvalidChars)').waitFor();

  await form.getByLabel('ID').fill('backports');
  await form.getByRole('button', { name: 'Add source' }).click();
  const urlGroup = form.locator('.pf-v6-c-form__group').filter({ has: page.locator('#source-url') });
  await urlGroup.getByText(/'url' must be an http, https or file URL/).waitFor();
  assert.equal(await idGroup.locator('.pf-m-error').count(), 0, 'the id is no longer marked');
  await urlGroup.scrollIntoViewIfNeeded();
  await screenshot(page, 'source-form');

  await form.getByLabel('URL').fill('https://deb.example.org/debian');
  await form.getByLabel('Suites').fill('bookworm-backports');
  await form.getByLabel('Components').fill('main contrib');
  await form.getByLabel('Check TLS certificates').uncheck();
  await form.getByRole('button', { name: 'Add source' }).click();
  await form.waitFor({ state: 'detached' });
  const row = page.getByRole('grid', { name: 'Sources' }).getByRole('row').filter({ hasText: 'backports' });
  await row.getByText('TLS not checked').waitFor();
  await row.getByText('bookworm-backports / main contrib').waitFor();

  const stored = await sourceInfo('backports');
  assert.equal(stored?.name, 'Backports');
  assert.equal(stored?.url, 'https://deb.example.org/debian');
  assert.deepEqual(stored?.suites, ['bookworm-backports']);
  assert.deepEqual(stored?.components, ['main', 'contrib']);
  assert.equal(stored?.check_gpg, true);
  assert.equal(stored?.check_ssl, false);
  await page.context().close();
});

test('removing a source asks first, and cancelling keeps it', { skip }, async () => {
  const body = JSON.stringify({
    id: 'to-remove',
    name: 'To remove',
    type: 'deb',
    url: 'http://deb.example.org/x',
  });
  const added = await call(auth(), 'POST', '/api/v1/projects/source/new', body, {
    'content-type': 'application/json',
  });
  assert.equal(added.status, 200, added.text());
  const page = await sourcesPage();
  const table = page.getByRole('grid', { name: 'Sources' });
  await table.getByRole('button', { name: 'Remove to-remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  assert.ok(await sourceInfo('to-remove'), 'kept after cancel');

  await table.getByRole('button', { name: 'Remove to-remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await table.getByRole('button', { name: 'Remove to-remove' }).waitFor({ state: 'detached' });
  assert.equal(await sourceInfo('to-remove'), undefined);
  await page.context().close();
});
