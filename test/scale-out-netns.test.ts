/**
 * Workers on many machines, shown with network namespaces (apps/cli/src/scale-out.fixture.ts): one
 * "host" runs Redis (ACL users, the default user off) and `forge serve --workers 0` on TCP with a
 * token, three others each run `forge worker` with a state directory of its own, reaching both
 * over veth pairs only; this machine is the client. Real composes of raw manifests (small trees,
 * a probe stage that sleeps):
 * - jobs spread over the workers, and the images arrive over HTTP and are downloaded and checked;
 * - resources are honoured: every build asks for 2 GiB, so w1 (4 GiB) runs two at a time and w2
 *   (2 GiB, though allowed two jobs) one, and a fourth build waits;
 * - a worker started later (w3) takes that queued build;
 * - w3's host cut off mid-build (its link down) ends the build's compose FAILED with
 *   FORGE_ERR_WORKER_LOST once its heartbeat has expired (the service's promise for a worker on
 *   another machine: under a minute), while the others go on;
 * - meanwhile, with every slot busy, a high-priority compose submitted last starts next.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ApiClient,
  apiClient,
  createNetwork,
  type Deployment,
  type Network,
  scaleOutUnavailable,
  startDeployment,
  startWorkerHost,
  type WorkerHost,
} from '@debian-forge/cli/testing/scale-out';
import { tempDir, testLibdir } from './engine.fixture.ts';
import { hello, helloManifest, probeManifest } from './worker.fixture.ts';

const skip = await scaleOutUnavailable();
if (skip) console.log(`# skipping the scale-out test over network namespaces: ${skip}`);

/**
 * A cut-off worker's job is failed when its lock (30 s) has expired, by the next stalled-job check
 * (every 30 s), or when its announcement too has expired (45 s), whichever comes first.
 */
const LOST_WITHIN_MS = 75_000;
const SLEEPING = probeManifest({ sleep: 600 });

describe('workers on other hosts (network namespaces)', { skip, timeout: 4 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let network: Network;
  let deployment: Deployment;
  let api: ApiClient;
  let libdir: string;
  const workers: WorkerHost[] = [];
  const worker = async (n: number, memoryMiB: number) => {
    const host = network.workers[n] as Network['workers'][number];
    const w = await startWorkerHost(deployment, host, join(dir.path, 'workers'), {
      FORGE_LIBDIR: libdir,
      FORGE_WORKER_JOBS: '2',
      FORGE_WORKER_CPUS: '2',
      FORGE_WORKER_MEMORY_MIB: String(memoryMiB),
    });
    workers.push(w);
    return w;
  };

  before(async () => {
    dir = tempDir('forge-scale-out-');
    libdir = testLibdir(dir.path);
    network = await createNetwork(3);
    deployment = await startDeployment(network, dir.path, libdir);
    api = apiClient(deployment);
    await worker(0, 4096);
    await worker(1, 2048);
  });

  after(async () => {
    await network?.destroy(); // every process in the namespaces: the workers, forge serve, Redis
    await deployment?.redis.stop();
    dir?.cleanup();
  });

  const report = () =>
    [deployment.serve.output(), ...workers.map((w) => `--- ${w.name}\n${w.output()}`)]
      .join('\n')
      .slice(-6000);

  it('spreads composes over the workers and serves their images over HTTP', async () => {
    const texts = Array.from({ length: 6 }, (_, i) => `hello from compose ${i}`);
    const ids = await Promise.all(texts.map((t) => api.submit(helloManifest(t), 'hello')));
    const done = await Promise.all(
      ids.map((id) => api.waitFor(id, (c) => c.state === 'COMPLETED', 'COMPLETED', 60_000)),
    ).catch((err: Error) => assert.fail(`${err.message}\n${report()}`));
    const builtBy = new Set(done.map((c) => c.worker));
    assert.deepEqual([...builtBy].sort(), ['w1', 'w2'], 'each worker built some');
    for (const [i, c] of done.entries()) {
      const image = await api.image(c.id);
      assert.deepEqual(image, hello(texts[i] as string), `the image of compose ${i}`);
      assert.equal(c.artifacts[0]?.size, image.length);
    }
  });

  it('honours resources, gives queued work to a worker started later, and fails the compose of a worker cut off', async () => {
    // Three sleeping builds fill the slots: two on w1 (4 GiB), one on w2 (2 GiB).
    const busy = await Promise.all([0, 1, 2].map(() => api.submit(SLEEPING, 'never')));
    const building = await Promise.all(
      busy.map((id) => api.waitFor(id, (c) => c.state === 'BUILDING', 'BUILDING')),
    );
    const slots = building.map((c) => c.worker).sort();
    assert.deepEqual(slots, ['w1', 'w1', 'w2']);
    // A fourth finds no room: w2 may run two jobs but has memory for one.
    const lost = await api.submit(SLEEPING, 'never');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await api.view(lost)).state, 'QUEUED');

    const w3 = await worker(2, 2048);
    const taken = await api.waitFor(lost, (c) => c.state === 'BUILDING', 'BUILDING');
    assert.equal(taken.worker, w3.name, 'the worker started later takes the queued build');
    await network.cut(w3.host);
    const cutAt = Date.now();

    // With every slot busy (w3 cut off takes nothing), normal composes, then a high-priority one.
    const normal: string[] = [];
    for (let i = 0; i < 3; i++) normal.push(await api.submit(helloManifest(`normal ${i}`), 'hello'));
    const urgent = await api.submit(helloManifest('urgent'), 'hello', 900);
    await api.cancel(busy[0] as string); // one slot frees: the head of the queue takes it
    const first = await api.waitFor(urgent, (c) => c.state === 'COMPLETED', 'COMPLETED');
    for (const id of busy.slice(1)) await api.cancel(id);
    const rest = await Promise.all(
      normal.map((id) => api.waitFor(id, (c) => c.state === 'COMPLETED', 'COMPLETED')),
    );
    for (const c of rest) {
      assert.ok(
        (first.started_at as string) < (c.started_at as string),
        `the high-priority compose started (${first.started_at}) before ${c.id} (${c.started_at})`,
      );
      assert.notEqual(c.worker, w3.name);
    }

    const failed = await api
      .waitFor(lost, (c) => c.state === 'FAILED', 'FAILED', LOST_WITHIN_MS)
      .catch((err: Error) => assert.fail(`${err.message}\n${report()}`));
    assert.equal(failed.error?.code, 'FORGE_ERR_WORKER_LOST');
    assert.equal(failed.worker, w3.name);
    console.log(
      `# the cut-off worker's compose failed ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut`,
    );
  });
});
