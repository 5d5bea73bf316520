/**
 * What compose tests share: a planner that needs no apt (a small valid manifest), a real
 * ForgeWorker on the test's queue with a tiny build processor that uploads its artifact through the
 * API as apps/worker does, and a wait for a compose's state.
 */
import { createHash } from 'node:crypto';
import { type BuildJob, type BuildResult, ForgeWorker, type JobContext } from '@debian-forge/queue';
import type { ComposeState } from '@debian-forge/store';
import type { TestApi } from '../testing.ts';
import type { ComposePlanner } from './composes.ts';

/** A manifest of one empty pipeline, valid for packages/manifest's schema. */
export const TINY_MANIFEST = {
  version: '2',
  pipelines: [{ name: 'image', stages: [] }],
  sources: {},
};

export const tinyPlanner: ComposePlanner = async (compose) => ({
  manifest: { ...TINY_MANIFEST, pipelines: [{ name: 'image', stages: [] }] },
  exports: ['image'],
  filename: compose.imageType === 'tar' ? 'root.tar' : 'disk.qcow2',
});

/** Uploads `bytes` as the compose's artifact the way a worker does (PUT with X-Forge-Sha256). */
export async function uploadArtifact(
  api: TestApi,
  uuid: string,
  filename: string,
  bytes: Buffer,
  sha256?: string,
) {
  return api.app.inject({
    method: 'PUT',
    url: `/api/forge/v1/composes/${uuid}/artifact?filename=${encodeURIComponent(filename)}`,
    headers: {
      'content-type': 'application/octet-stream',
      'x-forge-sha256': sha256 ?? createHash('sha256').update(bytes).digest('hex'),
    },
    payload: bytes,
  });
}

export type Build = (ctx: JobContext<BuildJob>) => Promise<BuildResult>;

/** A build that logs, reports progress, uploads `image bytes of <uuid>` and succeeds. */
export function uploadingBuild(api: () => TestApi): Build {
  return async (ctx) => {
    const { composeId, filename } = ctx.payload;
    await ctx.progress(1, 2, 'stage one');
    await ctx.log(`building ${composeId}`);
    const bytes = Buffer.from(`image bytes of ${composeId}\n`);
    const res = await uploadArtifact(api(), composeId, filename, bytes);
    if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`);
    await ctx.progress(2, 2);
    const { size, sha256 } = res.json() as { size: number; sha256: string };
    return { success: true, artifact: { filename, size, sha256 } };
  };
}

/**
 * A real ForgeWorker on the API's queue running `build`, closed when the API closes (or, with
 * `own`, by the caller).
 */
export async function startTestWorker(
  api: TestApi,
  build: Build,
  opts: { own?: boolean } = {},
): Promise<ForgeWorker> {
  const worker = await ForgeWorker.start({
    redis: api.redis.options,
    queueName: api.queue.queueName,
    name: 'test-worker',
    processors: { build },
    resources: { cpus: 2, memoryMiB: 4096, diskGiB: 50 },
    pollIntervalMs: 50,
    cancelPollMs: 100,
  });
  if (!opts.own) api.onClose(() => worker.close(true));
  return worker;
}

/** Resolves when the compose is in `state` (polling the store), or rejects after `timeoutMs`. */
export async function waitForState(
  api: TestApi,
  uuid: string,
  state: ComposeState,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = api.store.composes.get(uuid)?.state;
    if (now === state) return;
    if (Date.now() > deadline)
      throw new Error(`compose ${uuid} is ${now}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
