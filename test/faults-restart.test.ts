/**
 * `forge serve` killed with SIGKILL in the middle of a build (its worker dies with it; the build
 * gets SIGTERM from the kernel and exits), then started again on the same state directory: the
 * compose it was building is FAILED within a few seconds of the restart ("its worker <name> died"),
 * not a minute later when the job's lock has expired and the stalled-job check comes round; what
 * the killed build left in store/stage and store/tmp is removed (and said in one line); and the
 * next compose completes.
 *
 * The long build uses only stages of the libdir and no packages: org.osbuild.gzip of a 64 GiB
 * sparse file (killed long before it ends).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { sandboxUnavailable, tempDir } from './engine.fixture.ts';
import { sh } from './engine-host.fixture.ts';
import { composeImage, composeManifest, composeView, ended, waitForCompose } from './faults.fixture.ts';
import { processesMentioning, waitUntil } from './worker.fixture.ts';

const skip =
  sandboxUnavailable() ??
  (existsSync('/usr/bin/redis-server') ? undefined : 'needs redis-server (scripts/debian-packages)');
if (skip) console.log(`# skipping the restart-after-SIGKILL test: ${skip}`);

/** Pipeline `zero`: a sparse 64 GiB file; pipeline `img`: gzip of it, minutes of work. */
const LONG = {
  version: '2',
  pipelines: [
    {
      name: 'zero',
      stages: [{ type: 'org.osbuild.truncate', options: { filename: 'zero', size: '64G' } }],
    },
    {
      name: 'img',
      stages: [
        {
          type: 'org.osbuild.gzip',
          inputs: {
            file: {
              type: 'org.osbuild.files',
              origin: 'org.osbuild.pipeline',
              references: { 'name:zero': { file: 'zero' } },
            },
          },
          options: { filename: 'zero.gz' },
        },
      ],
    },
  ],
};

/** The entries of the store's write areas. */
function workAreas(store: string): string[] {
  return ['stage', 'tmp'].flatMap((d) => readdirSync(join(store, d)).map((n) => `${d}/${n}`));
}

describe('forge serve killed with SIGKILL mid-build, then started again', {
  skip,
  timeout: 10 * 60_000,
}, () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  let serve: Serve;
  before(async () => {
    dir = tempDir('forge-faults-restart-');
    state = join(dir.path, 'state');
    serve = await startServe(state, ['--workers', '1']);
  });
  after(async () => {
    await serve?.stop(); // SIGTERM: its redis-server stops with it
    dir?.cleanup();
  });

  it('fails the compose at start-up, empties store/stage and store/tmp, and builds the next one', async () => {
    const store = join(state, 'store');
    const id = await composeManifest(serve, LONG, 'img', 'zero.gz');
    const building = await waitForCompose(serve, id, (v) =>
      /org\.osbuild\.gzip/.test(v.progress?.message ?? ''),
    );
    assert.equal(building.state, 'BUILDING');
    const worker = building.worker as string;
    assert.match(worker, new RegExp(`^${hostname()}-${serve.child.pid}$`), 'the service’s own worker');
    await waitUntil('the build writes into store/stage and store/tmp', () => {
      const areas = workAreas(store);
      return areas.some((a) => a.startsWith('stage/')) && areas.some((a) => a.startsWith('tmp/'));
    });

    const exited = once(serve.child, 'exit');
    serve.child.kill('SIGKILL');
    await exited;
    // The build got SIGTERM from the kernel (parent-death signal) and exits at once, leaving its work.
    await waitUntil(
      'the killed build is gone',
      () => processesMentioning(join(state, 'work')).length === 0,
      15_000,
    );
    const left = workAreas(store);
    assert.ok(left.length >= 2, `the killed build left ${left.join(', ')}`);
    const leftBytes = Number(
      sh(['du', '-s', '--block-size=1', join(store, 'stage'), join(store, 'tmp'), '--total'])
        .trim()
        .split('\n')
        .pop()
        ?.split(/\s/)[0],
    );

    const t0 = Date.now();
    serve = await startServe(state, ['--workers', '1']);
    const readyMs = Date.now() - t0;
    // Reconciliation ran before the service said it was ready: the first look finds it FAILED.
    const first = await composeView(serve, id);
    const failedMs = Date.now() - t0;
    console.log(
      `restart: ready after ${readyMs} ms, the compose ${first.state} at the first look, ${failedMs} ms after the restart began; ${left.length} leftovers (${(leftBytes / 1e6).toFixed(1)} MB) removed`,
    );
    assert.equal(first.state, 'FAILED');
    assert.ok(failedMs < 15_000, `FAILED ${failedMs} ms after the restart began`);
    assert.equal(first.error?.code, 'FORGE_ERR_WORKER_LOST');
    assert.match(
      first.error?.message ?? '',
      new RegExp(`^its worker ${worker} died \\(process \\d+ on ${hostname()} has ended\\)$`),
    );

    assert.deepEqual(workAreas(store), [], 'store/stage and store/tmp are empty');
    assert.match(
      serve.output(),
      new RegExp(
        `forge serve: removed ${left.length} work directories of dead builds \\([\\d.]+ MB\\) from ${store}: `,
      ),
    );

    const next = await ended(serve, await composeImage(serve, '1M'));
    assert.equal(next.state, 'COMPLETED', JSON.stringify(next.error));
  });
});
