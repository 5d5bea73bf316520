/**
 * For the web UI's browser tests: Debian's chromium driven by playwright-core, screenshots written
 * to test-output/screenshots (the README shows two of them).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', '..', 'test-output', 'screenshots');

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `needs ${CHROMIUM} (apt-get install chromium)`;
  return undefined;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root has no user namespace sandbox for chromium here; the page is our own, on loopback.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A new page of a laptop's size. */
export async function laptopPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  return context.newPage();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export interface WebRig {
  readonly serve: Serve;
  readonly browser: Browser;
  /** The rig's own temporary directory (removed after the tests), for a test's other files. */
  readonly dir: string;
}

export interface WebRigOptions {
  /** What forge serve is started with after its state directory and listener; no workers by default. */
  args?: string[];
  /**
   * A state directory to use instead of a fresh one, kept after the tests: the image tests' shared
   * one (apt roots, object store) when the test script made one.
   */
  stateDir?: string;
}

/**
 * What a browser test file (or describe block) runs against, started before its tests and stopped
 * after them: one `forge serve` (its own state under FORGE_TEST_STATE_DIR or the temporary
 * directory unless `stateDir` names one) and one browser. Nothing is started when it is skipped.
 */
export function webRig(prefix: string, skip: string | undefined, options: WebRigOptions = {}): WebRig {
  let dir: string | undefined;
  let serve: Serve | undefined;
  let browser: Browser | undefined;
  before(async () => {
    if (skip) return;
    dir = mkdtempSync(join(process.env.FORGE_TEST_STATE_DIR ?? tmpdir(), prefix));
    serve = await startServe(options.stateDir ?? join(dir, 'state'), options.args ?? ['--workers', '0']);
    browser = await launchBrowser();
  });
  after(async () => {
    if (skip) return;
    await browser?.close();
    await serve?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the web rig is used before its before() hook ran');
    return value;
  };
  return {
    get serve() {
      return started(serve);
    },
    get browser() {
      return started(browser);
    },
    get dir() {
      return started(dir);
    },
  };
}

/** Opens the UI at `route` (a hash route such as `#/sources`, or nothing) and logs in with the token. */
export async function logIn(page: Page, serve: Serve, route = ''): Promise<void> {
  await page.goto(`${serve.url}/${route}`);
  await page.getByLabel('Access token').fill(serve.token);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** A new laptop-sized page of the rig's browser, logged in at `route`. */
export async function loggedInPage(rig: WebRig, route = ''): Promise<Page> {
  const page = await laptopPage(rig.browser);
  await logIn(page, rig.serve, route);
  return page;
}
