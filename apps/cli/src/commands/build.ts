import { resolve } from 'node:path';
import {
  type BuildResult,
  buildManifest,
  EngineError,
  jsonResult,
  makeMonitor,
  markCheckpoints,
} from '@debian-forge/engine';
import {
  checkName,
  describeManifest,
  getPipeline,
  hostRunnerName,
  loadManifest,
  ManifestValidationError,
  pyDumps,
  validateManifest,
} from '@debian-forge/manifest';
import { DEFAULT_LIBDIR } from '@debian-forge/stages/location';
import { type Command, type CommandContext, UsageError } from '../command.ts';
import {
  engineIndex,
  libdirsOf,
  manifestFlags,
  manifestPath,
  osReleaseText,
  readManifest,
} from '../manifest-input.ts';
import { parseCacheSize } from '../serve/options.ts';

const strings = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

export const buildCommand: Command = {
  name: 'build',
  summary:
    'Build an OSBuild manifest, as `osbuild` does: fetch the sources, build the exported pipelines and what they depend on (each stage in bubblewrap), and copy each export to the output directory. Exit 0 on success, 1 when the build fails, 2 for an invalid manifest, 130 when interrupted.',
  args: [{ name: 'MANIFEST', help: "manifest file (OSBuild format version 2), or '-' for standard input" }],
  flags: {
    store: {
      type: 'string',
      metavar: 'DIR',
      help: 'object store: sources and cached trees (default .osbuild); --cache is the same',
    },
    cache: { type: 'string', metavar: 'DIR', help: 'same as --store' },
    libdir: {
      type: 'string',
      short: 'l',
      multiple: true,
      metavar: 'DIR',
      help: 'stages and runners in OSBuild layout (default: the libdir built from packages/stages); given more than once, a stage is taken from the first that has it',
    },
    'output-directory': {
      type: 'string',
      metavar: 'DIR',
      help: 'where exported pipelines are written (DIR/<pipeline>)',
    },
    export: {
      type: 'string',
      multiple: true,
      metavar: 'NAME',
      help: 'pipeline to build and export; nothing is built without one',
    },
    checkpoint: {
      type: 'string',
      multiple: true,
      metavar: 'PATTERN',
      help: 'commit matching stages to the cache: a pipeline name (its last stage), stage id or stage type; globs allowed',
    },
    'cache-max-size': {
      type: 'string',
      metavar: 'SIZE',
      help: "bound of the cache: bytes, N kB|KiB|MB|MiB|GB|GiB|TB|TiB, or 'unlimited' (kept in the store; 0 caches nothing)",
    },
    json: { type: 'boolean', help: "print OSBuild's JSON result object instead of a log" },
    inspect: {
      type: 'boolean',
      help: 'print the manifest with its ids (as `forge inspect`) and build nothing',
    },
    monitor: {
      type: 'string',
      metavar: 'NAME',
      help: 'LogMonitor (default), JSONSeqMonitor (RFC 7464 records) or NullMonitor',
    },
    'monitor-fd': {
      type: 'string',
      metavar: 'FD',
      help: 'file descriptor the monitor writes to (default 1)',
    },
    'stage-timeout': { type: 'string', metavar: 'SECONDS', help: 'kill a stage that runs longer than this' },
    rundir: {
      type: 'string',
      metavar: 'DIR',
      help: 'runtime records of loop devices and mounts (default /run/osbuild)',
    },
    quiet: { type: 'boolean', short: 'q', help: 'print nothing but errors (and the --json result)' },
    'max-size': manifestFlags['max-size'] as (typeof manifestFlags)[string],
  },
  async run(ctx) {
    const path = manifestPath(ctx);
    const exports = [...new Set(strings(ctx.flags.export))];
    // Each export is written to <output directory>/<NAME>: a bad NAME ends here, exit 2.
    for (const name of exports) checkName(name, 'export');
    const index = engineIndex(ctx, libdirsOf(ctx) ?? [DEFAULT_LIBDIR]);
    const desc = await readManifest(ctx, path);
    const validation = validateManifest(desc, { index });
    if (!validation.valid) throw new ManifestValidationError(validation);
    const manifest = loadManifest(desc, { index });
    const json = ctx.flags.json === true;
    const quiet = ctx.flags.quiet === true;
    const say = (s: string) => {
      if (!json && !quiet) ctx.io.stdout.write(s);
    };

    const unknown = exports.filter((e) => !getPipeline(manifest, e));
    if (unknown.length > 0) {
      const names = manifest.pipelines.map((p) => p.name).join(', ');
      for (const name of unknown) ctx.io.stdout.write(`Export ${name} not found in [${names}]\n`);
      ctx.io.stdout.write('Failed\n');
      return 1;
    }
    const patterns = strings(ctx.flags.checkpoint);
    if (patterns.length > 0 && markCheckpoints(manifest, patterns).size === 0) {
      ctx.io.stdout.write('No checkpoints matched provided patterns!\nFailed\n');
      return 1;
    }
    if (ctx.flags.inspect) {
      ctx.io.stdout.write(
        `${pyDumps(describeManifest(manifest, { hostRunner: hostRunnerName(osReleaseText()) }))}\n`,
      );
      return 0;
    }
    const outputDirectory =
      typeof ctx.flags['output-directory'] === 'string' ? resolve(ctx.flags['output-directory']) : undefined;
    if (exports.length > 0 && !outputDirectory) {
      ctx.io.stdout.write('Need --output-directory for --export\n');
      return 1;
    }
    const monitorName =
      typeof ctx.flags.monitor === 'string'
        ? ctx.flags.monitor
        : json || quiet
          ? 'NullMonitor'
          : 'LogMonitor';
    const monitorFd = integerFlag(ctx, 'monitor-fd') ?? 1;
    const storeDir = resolve(String(ctx.flags.store ?? ctx.flags.cache ?? '.osbuild'));
    const cacheMaxSize =
      typeof ctx.flags['cache-max-size'] === 'string'
        ? parseCacheSize('cache-max-size', ctx.flags['cache-max-size'])
        : undefined;

    // Interrupted: exit 130 at once. bwrap dies with us, and the next build releases the loop
    // devices and mounts this one recorded and removes its work directories.
    const interrupted = () => {
      ctx.io.stderr.write('forge build: interrupted\n');
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    let result: BuildResult;
    try {
      result = await buildManifest(manifest, {
        storeDir,
        index: index.libdir,
        exports,
        checkpoints: patterns,
        cacheMaxSize,
        outputDirectory,
        stageTimeout: integerFlag(ctx, 'stage-timeout'),
        rundir: typeof ctx.flags.rundir === 'string' ? resolve(ctx.flags.rundir) : undefined,
        hostRunner: hostRunnerName(osReleaseText()),
        exportNoPreserveOwner: process.env.OSBUILD_EXPORT_FORCE_NO_PRESERVE_OWNER === '1',
        monitor: (total) => {
          const m = makeMonitor(monitorName, monitorFd, total);
          m.log(`starting ${path}\n`, 'osbuild.main_cli');
          return m;
        },
      });
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      ctx.io.stderr.write(`forge build: ${err.message} [${err.code}]\n`);
      return 1;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
    if (json) {
      ctx.io.stdout.write(`${pyDumps(jsonResult(manifest, result))}\n`);
    } else {
      if (result.pipelines.length === 0 && exports.length > 0)
        say('Nothing to build: every exported pipeline is in the store.\n');
      for (const [name, dest] of Object.entries(result.exported)) say(`Exported ${name} to ${dest}\n`);
      if (result.success) {
        // The summary osbuild prints: every pipeline's id, then whether each checkpoint is cached.
        say('\nPipelines\n');
        for (const p of manifest.pipelines) say(`  ${`${p.name}:`.padEnd(10)}\t${p.id ?? ''}\n`);
        say('\nCheckpoints\n');
        for (const [id, cached] of Object.entries(result.checkpoints))
          say(`  ${id}: ${cached ? 'cached' : 'not cached'}\n`);
      }
      say(result.success ? 'Build succeeded\n' : 'Failed\n');
    }
    return result.success ? 0 : 1;
  },
};

function integerFlag(ctx: CommandContext, name: string): number | undefined {
  const raw = ctx.flags[name];
  if (typeof raw !== 'string') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, not '${raw}'`);
  return n;
}
