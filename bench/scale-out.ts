/**
 * Composes per minute with 1, 2 and 3 workers on hosts of their own: the scale-out test's set-up
 * (@debian-forge/cli/testing/scale-out: network namespaces joined by veth pairs, Redis with ACL users
 * and `forge serve --workers 0` on one host, `forge worker` on the others, one build at a time
 * each), fed cheap builds (a directory and a sparse file: the cost is the sandbox, the store and
 * the queue, not the 2 CPUs compiling a Debian tree). Each round adds a worker and submits
 * `--composes` new manifests at once through the API over TCP, timed from the first submission to
 * the last COMPLETED. The workers share this machine's CPUs, so the ratios say how much of a
 * build's time is waiting (queue, API, uploads) that another worker fills, not what separate
 * machines would add.
 *   node --import tsx bench/scale-out.ts [--composes N]   (npm run bench:scale-out; root)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  apiClient,
  cheapManifest,
  createNetwork,
  type Deployment,
  scaleOutUnavailable,
  startDeployment,
  startWorkerHost,
} from '@debian-forge/cli/testing/scale-out';

const { values } = parseArgs({ options: { composes: { type: 'string', default: '24' } } });
const composes = Number(values.composes);
if (!Number.isInteger(composes) || composes < 1) throw new Error('--composes must be a whole number above 0');

const why = await scaleOutUnavailable();
if (why) {
  console.error(`bench:scale-out: ${why}`);
  process.exit(1);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`load average before: ${load()}`);
const dir = mkdtempSync(join(tmpdir(), 'forge-bench-scale-out-'));
const network = await createNetwork(3);
const rows: { workers: number; seconds: number; perMinute: number }[] = [];
let deployment: Deployment | undefined;
try {
  deployment = await startDeployment(network, dir);
  const api = apiClient(deployment);
  for (const [i, host] of network.workers.entries()) {
    await startWorkerHost(deployment, host, join(dir, 'workers'), { FORGE_WORKER_JOBS: '1' });
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: composes }, (_, n) => api.submit(cheapManifest(`round-${i}-${n}`), 'image')),
    );
    const done = await Promise.all(
      ids.map((id) => api.waitFor(id, (c) => c.state === 'COMPLETED', 'COMPLETED', 600_000)),
    );
    const seconds = (performance.now() - started) / 1000;
    const by = new Map<string, number>();
    for (const c of done) by.set(c.worker ?? '?', (by.get(c.worker ?? '?') ?? 0) + 1);
    const spread = [...by]
      .sort()
      .map(([w, n]) => `${w} ${n}`)
      .join(', ');
    rows.push({ workers: i + 1, seconds, perMinute: (composes / seconds) * 60 });
    console.log(`${i + 1} worker(s): ${composes} composes in ${seconds.toFixed(1)} s (${spread})`);
  }
} finally {
  await network.destroy(); // the workers, forge serve and Redis
  await deployment?.redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

const base = rows[0]?.perMinute ?? 1;
console.log(`\n| workers | composes | seconds | composes/min | ratio to 1 worker |`);
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.workers} | ${composes} | ${r.seconds.toFixed(1)} | ${r.perMinute.toFixed(1)} | ${(r.perMinute / base).toFixed(2)} |`,
  );
}
console.log(`\nload average after: ${load()} (2 CPUs; other work on the machine counts in these figures)`);
