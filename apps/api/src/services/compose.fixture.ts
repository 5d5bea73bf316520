/**
 * What compose tests share: planners that need no apt (a small valid manifest; the real
 * planCompose over a made-up package catalogue, also behind a gate), a real ForgeWorker on the
 * test's queue with a tiny build processor that uploads its artifact through the API as
 * apps/worker does, and waits for a compose's state or for its row.
 */
import { createHash } from 'node:crypto';
import { AptError, AptErrorCode, type Repository } from '@debian-forge/apt';
import { planCompose, type ResolvedPackage } from '@debian-forge/composer';
import type { ManifestV2 } from '@debian-forge/manifest';
import {
  type BuildJob,
  type BuildPlan,
  type BuildResult,
  buildPlanSchema,
  ForgeWorker,
  type JobContext,
} from '@debian-forge/queue';
import type { ComposeState } from '@debian-forge/store';
import type { TestApi } from '../api.fixture.ts';
import { TERMINAL } from './compose-rows.ts';
import type { ComposePlanner } from './planner.ts';

/** A manifest of one empty pipeline, valid for packages/manifest's schema. */
export const TINY_MANIFEST: ManifestV2 = {
  version: '2',
  pipelines: [{ name: 'image', stages: [] }],
  sources: {},
};

export const tinyPlanner: ComposePlanner = async ({ imageType }) => ({
  manifest: { ...TINY_MANIFEST, pipelines: [{ name: 'image', stages: [] }] },
  exports: ['image'],
  artifact: { filename: imageType.filename, mimeType: imageType.mimeType },
  checkpoints: [],
  layers: [],
});

/** A host apt source for planners that never reach it (Debian suite names and components only). */
const PLACEHOLDER_HOST: Repository[] = [
  {
    id: 'host',
    types: ['deb'],
    uris: ['http://mirror.invalid/debian'],
    suites: ['bookworm'],
    components: ['main'],
  },
];

/**
 * packages/composer's planCompose (so its real refusals: OSTree options, a disk too small …) with a
 * resolver over a made-up catalogue in which every package exists except those named `missing-*`,
 * for which it throws apt's own error (FORGE_ERR_APT_NOT_FOUND, "Unable to locate package"), and
 * no source package exists (FORGE_ERR_APT_SOURCE_NOT_FOUND).
 */
export const catalogPlanner: ComposePlanner = async (target) => {
  const deb = (spec: string): ResolvedPackage => {
    const name = spec.split(/[ =(]/)[0] as string;
    if (name.startsWith('missing-')) {
      throw new AptError(AptErrorCode.NotFound, `E: Unable to locate package ${name}`);
    }
    return {
      name,
      version: '1.0',
      arch: 'amd64',
      url: `http://mirror.invalid/debian/pool/main/${name}_1.0_amd64.deb`,
      filename: `${name}_1.0_amd64.deb`,
      sha256: createHash('sha256').update(name).digest('hex'),
      size: 1,
      repository: 'host',
    };
  };
  const resolver = {
    resolveLayers: async (
      _suite: string,
      _arch: string,
      _repos: Repository[],
      layers: { packages: string[] }[],
    ) => layers.map((l) => l.packages.map(deb)),
    releaseEpoch: async () => 1_700_000_000,
    // The catalogue has binary packages only: a source package is unknown, as apt says.
    resolveSource: async (_arch: string, _repos: Repository[], request: { name: string }) => {
      throw new AptError(
        AptErrorCode.SourceNotFound,
        `no source package '${request.name}', nor a binary package of that name, in the root's deb-src repositories`,
      );
    },
    sourceBinaries: async () => [],
  };
  return planCompose(target, { resolver, hostRepositories: PLACEHOLDER_HOST });
};

/** catalogPlanner behind a gate: `close()` holds the plans that start after it until `open()`. */
export function gatedPlanner() {
  let open: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const planner: ComposePlanner = async (target) => {
    await gate;
    return catalogPlanner(target);
  };
  return {
    planner,
    close() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    open: () => open(),
  };
}

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

/** The plan the API serves a worker for a job, as apps/worker asks for it; throws unless 200. */
export async function planOf(api: TestApi, composeId: string, jobId: string): Promise<BuildPlan> {
  const res = await api.app.inject({
    method: 'GET',
    url: `/api/forge/v1/composes/${composeId}/plan?job=${encodeURIComponent(jobId)}`,
  });
  if (res.statusCode !== 200) throw new Error(`plan: ${res.statusCode} ${res.body}`);
  return buildPlanSchema.parse(res.json());
}

/** A build that asks for its plan, logs, reports progress, uploads `image bytes of <uuid>` and succeeds. */
export function uploadingBuild(api: () => TestApi): Build {
  return async (ctx) => {
    const { composeId } = ctx.payload;
    const { filename } = (await planOf(api(), composeId, ctx.jobId)).artifact;
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

/**
 * Resolves when the compose is in `state` (polling the store); rejects after `timeoutMs`, or at
 * once when it ended in another state, with the error it ended with.
 */
export async function waitForState(
  api: TestApi,
  uuid: string,
  state: ComposeState,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const compose = api.store.composes.get(uuid);
    if (compose?.state === state) return;
    if (compose && TERMINAL.includes(compose.state)) {
      throw new Error(
        `compose ${uuid} ended ${compose.state}, not ${state}: ${JSON.stringify(compose.error)}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`compose ${uuid} is ${compose?.state}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The uuid of the first compose row to appear (polling the store). */
export async function firstRow(api: TestApi): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const [row] = api.store.composes.list().items;
    if (row) return row.uuid;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no compose row appeared');
}
