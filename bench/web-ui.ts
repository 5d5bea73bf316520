/**
 * The web UI with many things stored (issue 13): 1,000 blueprints and 2,000 composes written into a
 * fresh state directory's database, then the real `forge serve` and Debian's chromium.
 *
 *   first render   from navigating to the view until its table shows its first page (median of --runs)
 *   search         from typing into the blueprint search until the table shows the matches
 *   memory         the page's JavaScript heap after the view rendered (CDP Performance metrics)
 *
 * For the composes view the same, when the UI has one (a section named Composes).
 *
 *   node --import tsx bench/web-ui.ts [--runs N] [--blueprints N] [--composes N]   (npm run bench:web)
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '@debian-forge/cli/testing/serve';
import { openStore } from '@debian-forge/store';
import { laptopPage, launchBrowser } from '@debian-forge/web/testing';
import type { Page } from 'playwright-core';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
const RUNS = arg('runs', 3);
const BLUEPRINTS = arg('blueprints', 1000);
const COMPOSES = arg('composes', 2000);

const root = mkdtempSync(join(tmpdir(), 'forge-bench-web-'));
const state = join(root, 'state');
mkdirSync(state, { recursive: true, mode: 0o700 });

// The database the service opens, filled as the API would fill it.
const store = openStore(join(state, 'state.sqlite'));
const fill = Date.now();
for (let i = 0; i < BLUEPRINTS; i++) {
  const name = `bp-${String(i).padStart(4, '0')}`;
  store.blueprints.push({
    name,
    description: `blueprint number ${i}`,
    version: '0.0.1',
    packages: [{ name: 'curl', version: '*' }, { name: 'tmux' }],
    modules: [],
    groups: [],
  });
}
const ends = ['COMPLETED', 'FAILED', 'CANCELLED'] as const;
for (let i = 0; i < COMPOSES; i++) {
  const c = store.composes.create({
    blueprintName: `bp-${String(i % BLUEPRINTS).padStart(4, '0')}`,
    blueprintVersion: '0.0.1',
    imageType: i % 2 ? 'tar' : 'qcow2',
    distro: 'debian-12',
    arch: 'x86_64',
    api: 'weldr',
  });
  if (i % 100 === 0) continue; // a few stay PENDING
  store.composes.transition(c.uuid, 'QUEUED');
  if (i % 50 === 1) continue;
  store.composes.transition(c.uuid, 'BUILDING');
  store.composes.transition(
    c.uuid,
    ends[i % 3] as (typeof ends)[number],
    i % 3 === 1 ? { error: 'bench' } : {},
  );
}
store.close();
process.stdout.write(`stored ${BLUEPRINTS} blueprints and ${COMPOSES} composes in ${Date.now() - fill} ms\n`);

const serve = await startServe(state, ['--workers', '0']);
const browser = await launchBrowser();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function heapMiB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 1024 / 1024;
}

async function openPage(): Promise<Page> {
  const page = await laptopPage(browser);
  // Logged in already: the token where the login keeps it for the tab.
  await page.context().addInitScript({
    content: `sessionStorage.setItem('debian-forge.token', ${JSON.stringify(serve.token)})`,
  });
  return page;
}

/** Milliseconds from navigation until `ready` resolves, and the heap then; `runs` times. */
async function measure(route: string, ready: (page: Page) => Promise<unknown>) {
  const times: number[] = [];
  const heaps: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const page = await openPage();
    const start = performance.now();
    await page.goto(`${serve.url}/${route}`);
    await ready(page);
    times.push(performance.now() - start);
    heaps.push(await heapMiB(page));
    await page.context().close();
  }
  return { ms: median(times), heap: median(heaps) };
}

try {
  const list = await measure('#/blueprints', (page) =>
    page.getByRole('grid', { name: 'Blueprints' }).getByText('blueprint number 0', { exact: true }).waitFor(),
  );
  process.stdout.write(
    `blueprints (${BLUEPRINTS}): first render ${list.ms.toFixed(0)} ms, JS heap ${list.heap.toFixed(1)} MiB\n`,
  );

  const searches: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const page = await openPage();
    await page.goto(`${serve.url}/#/blueprints`);
    const table = page.getByRole('grid', { name: 'Blueprints' });
    await table.getByText('blueprint number 0', { exact: true }).waitFor();
    const start = performance.now();
    await page.getByLabel('Search blueprints').fill('bp-0999');
    await table.getByText('blueprint number 999', { exact: true }).waitFor();
    searches.push(performance.now() - start);
    await page.context().close();
  }
  process.stdout.write(`blueprint search: ${median(searches).toFixed(0)} ms until the match shows\n`);

  const probe = await openPage();
  await probe.goto(`${serve.url}/#/blueprints`);
  const hasComposes = await probe
    .getByRole('link', { name: 'Composes' })
    .waitFor({ timeout: 5000 })
    .then(
      () => true,
      () => false,
    );
  await probe.context().close();
  if (hasComposes) {
    const composes = await measure('#/composes', (page) =>
      page.getByRole('grid').first().locator('tbody tr').first().waitFor(),
    );
    process.stdout.write(
      `composes (${COMPOSES}): first render ${composes.ms.toFixed(0)} ms, JS heap ${composes.heap.toFixed(1)} MiB\n`,
    );
  } else process.stdout.write('composes: the UI has no composes view yet\n');
} finally {
  await browser.close();
  await serve.stop();
  rmSync(root, { recursive: true, force: true });
}
