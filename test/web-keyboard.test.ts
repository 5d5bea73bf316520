/**
 * The main views with the keyboard only (Tab, Shift+Tab, Enter, Escape) against the real `forge
 * serve` in Debian's chromium: the login, every section reached from the navigation, a table's row
 * action and the dialogs it and the toolbars open. Every control that takes the focus on the way must
 * have a name (what a screen reader says) and a visible focus mark (the pixels around it change when
 * it loses the focus); the page must log no console error (a CSP refusal shows there).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { browserUnavailable, laptopPage, screenshot, webRig } from '@debian-forge/web/testing';
import type { Page } from 'playwright-core';

const skip = browserUnavailable();
const rig = webRig('web-keyboard-', skip);

/** The most Tab presses a control may be away from the last one reached. */
const MOST_TABS = 60;

/** What is wrong with the controls met on the way, all of them, so one run shows every one. */
const problems = new Set<string>();

/** The focused element's role and name, as the accessibility tree has them (`button "Delete x"`). */
async function focusedName(page: Page): Promise<string> {
  const snapshot = await page
    .locator(':focus')
    .ariaSnapshot({ timeout: 2_000 })
    .catch(() => '');
  // `- button "Delete x": Delete` (its text after the colon) or `- textbox "Access token"`.
  const first = /^- ([a-z]+)(?: ("(?:[^"\\]|\\.)*"))?/.exec(snapshot.split('\n')[0] ?? '');
  return first ? [first[1], first[2]].filter(Boolean).join(' ') : '';
}

/** Whether the focus shows: the pixels around the element change when it loses the focus. */
async function focusShows(page: Page): Promise<boolean> {
  const box = await page.locator(':focus').boundingBox();
  if (!box) return false;
  const pad = 6;
  const clip = {
    x: Math.max(0, box.x - pad),
    y: Math.max(0, box.y - pad),
    width: box.width + 2 * pad,
    height: box.height + 2 * pad,
  };
  const focused = await page.screenshot({ clip, animations: 'disabled' });
  await page.locator(':focus').evaluate((el) => el.setAttribute('data-kb-focus', ''));
  const mark = page.locator('[data-kb-focus]');
  await mark.blur();
  const blurred = await page.screenshot({ clip, animations: 'disabled' });
  await mark.focus();
  await mark.evaluate((el) => el.removeAttribute('data-kb-focus'));
  return !focused.equals(blurred);
}

/** Checks the control that has the focus: a name and a visible focus mark. */
async function checkFocused(page: Page, where: string): Promise<string> {
  const name = await focusedName(page);
  if (name === '') return name;
  if (!/"[^"]+"/.test(name)) problems.add(`${where}: ${name || 'a control'} has no name`);
  if (!(await focusShows(page))) problems.add(`${where}: ${name} shows no focus`);
  return name;
}

/** Presses `key` until the focus is on `target` (role and name, as focusedName gives them). */
async function tabTo(page: Page, target: string, where: string, key = 'Tab'): Promise<void> {
  const met: string[] = [];
  for (let i = 0; i < MOST_TABS; i++) {
    await page.keyboard.press(key);
    const name = await checkFocused(page, where);
    if (name === target) return;
    met.push(name);
  }
  assert.fail(`${where}: ${target} not reached by ${key} in ${MOST_TABS} presses; met ${met.join(', ')}`);
}

/** Opens a dialog with Enter on `opener`, walks to its Cancel, leaves it with Escape. */
async function openAndLeave(page: Page, opener: string, where: string, key = 'Tab'): Promise<void> {
  await tabTo(page, opener, where, key);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await tabTo(page, 'button "Cancel"', `${where}: ${opener}'s dialog`);
  await screenshot(page, `keyboard-${where}-dialog`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}

/** Follows the navigation's link to `section` (it is above the focus, so Shift+Tab). */
async function section(page: Page, title: string): Promise<void> {
  await tabTo(page, `link "${title}"`, 'navigation', 'Shift+Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: title, exact: true }).waitFor();
}

test('the main views by keyboard only: names and focus on every control, no console error', {
  skip,
  timeout: 5 * 60_000,
}, async () => {
  const auth = { url: rig.serve.url, token: rig.serve.token };
  const made = await call(
    auth,
    'POST',
    '/api/v1/blueprints/new',
    JSON.stringify({ name: 'kb-one', description: 'by keyboard', version: '0.0.1', packages: [] }),
    { 'content-type': 'application/json' },
  );
  assert.equal(made.status, 200, made.text());

  const page = await laptopPage(rig.browser);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(rig.serve.url);

  await tabTo(page, 'textbox "Access token"', 'login');
  await page.keyboard.type(rig.serve.token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Blueprints', exact: true }).waitFor();

  // The blueprint list: its toolbar, then a row's actions and the dialogs they open; a dialog
  // gives the focus back to the button that opened it, and the row's other action is before it.
  await openAndLeave(page, 'button "Delete kb-one"', 'blueprints');
  await openAndLeave(page, 'button "Create image of kb-one"', 'blueprints', 'Shift+Tab');

  // Each section from the navigation, and what its toolbar opens.
  await section(page, 'Composes');
  await openAndLeave(page, 'button "Create image"', 'composes');
  await section(page, 'Sources');
  await openAndLeave(page, 'button "Add source"', 'sources');
  await section(page, 'System');
  await section(page, 'Blueprints');
  await page.getByRole('grid', { name: 'Blueprints' }).getByText('by keyboard').waitFor();

  // Escape left everything as it was.
  const info = await call(auth, 'GET', '/api/v1/blueprints/list');
  assert.ok((info.json() as { blueprints: string[] }).blueprints.includes('kb-one'));
  assert.deepEqual([...problems], [], 'controls without a name or a visible focus');
  assert.deepEqual(consoleErrors, [], 'console errors');
  await page.context().close();
});
