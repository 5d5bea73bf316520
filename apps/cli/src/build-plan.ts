/**
 * What `forge compose` and `forge sbuild` share after planning: the manifest checked against the
 * libdir, built into the store under the state directory with the plan's checkpoints (so the next
 * run starts from what the store holds), its exports written into a directory of the output
 * directory that the caller takes the files from and removes.
 */
import { join, resolve } from 'node:path';
import {
  type BuildResult,
  buildManifest,
  DEFAULT_CACHE_MAX_SIZE,
  EngineIndex,
  makeMonitor,
} from '@debian-forge/engine';
import {
  hostRunnerName,
  LibdirIndex,
  loadManifest,
  type ManifestV2,
  ManifestValidationError,
  validateManifest,
} from '@debian-forge/manifest';
import { DEFAULT_LIBDIR } from '@debian-forge/stages/location';
import type { CommandContext, Flag } from './command.ts';
import { stateDirOf } from './compose-request.ts';
import { osReleaseText } from './manifest-input.ts';
import { parseCacheSize } from './serve/options.ts';

export const buildFlags: Record<string, Flag> = {
  store: { type: 'string', metavar: 'DIR', help: 'object store (default STATE-DIR/store)' },
  'cache-max-size': {
    type: 'string',
    metavar: 'SIZE',
    help: "bound of the store's cache (default: what the store has, else 20 GiB)",
  },
  monitor: { type: 'string', metavar: 'NAME', help: 'LogMonitor (default), JSONSeqMonitor or NullMonitor' },
  'monitor-fd': {
    type: 'string',
    metavar: 'FD',
    help: 'file descriptor the monitor writes to (default 1)',
  },
};

export interface BuildPlan {
  manifest: ManifestV2;
  exports: string[];
  checkpoints: string[];
}

/** Builds `plan` with the flags of `buildFlags`, its exports into `exportDir`. */
export async function buildPlan(
  ctx: CommandContext,
  plan: BuildPlan,
  exportDir: string,
): Promise<BuildResult> {
  const index = new EngineIndex(new LibdirIndex(DEFAULT_LIBDIR, (m) => ctx.io.stderr.write(`${m}\n`)));
  const validation = validateManifest(plan.manifest, { index });
  if (!validation.valid) throw new ManifestValidationError(validation);
  const manifest = loadManifest(plan.manifest, { index });
  const storeDir = resolve(
    typeof ctx.flags.store === 'string' ? ctx.flags.store : join(stateDirOf(ctx), 'store'),
  );
  const sizeFlag = ctx.flags['cache-max-size'];
  return buildManifest(manifest, {
    storeDir,
    index: index.libdir,
    exports: plan.exports,
    checkpoints: plan.checkpoints,
    cacheMaxSize: typeof sizeFlag === 'string' ? parseCacheSize('cache-max-size', sizeFlag) : undefined,
    defaultCacheMaxSize: DEFAULT_CACHE_MAX_SIZE,
    outputDirectory: exportDir,
    hostRunner: hostRunnerName(osReleaseText()),
    monitor: (total) =>
      makeMonitor(
        typeof ctx.flags.monitor === 'string' ? ctx.flags.monitor : 'LogMonitor',
        typeof ctx.flags['monitor-fd'] === 'string' ? Number(ctx.flags['monitor-fd']) : 1,
        total,
      ),
  });
}
