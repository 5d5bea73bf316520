import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AptError,
  AptErrorCode,
  debianRepositories,
  debianSourceRepositories,
  openRoot,
  type ResolvedSource,
  resolveSource,
} from '@debian-forge/apt';
import {
  aptResolver,
  ComposerError,
  DEFAULT_DISTRO,
  DISTROS,
  type Distro,
  getDistro,
  type LocalSource,
  localSource,
  makeSbuildManifest,
  SBUILD_CHECKPOINTS,
  SBUILD_PIPELINES,
} from '@debian-forge/composer';
import { EngineError } from '@debian-forge/engine';
import { buildFlags, buildPlan } from '../build-plan.ts';
import { type Command, type CommandContext, UsageError } from '../command.ts';
import { composeFlags, sourceEpochOf, stateDirOf } from '../compose-request.ts';

/** An archive source is named (`hello`, `hello=2.10-3`); anything with a `/` is a path. */
const isPath = (arg: string) => arg.includes('/');

/** The source package to build: resolved from the archive's deb-src, or made from a local path. */
async function sourceOf(
  arg: string,
  distro: Distro,
  stateDir: string,
): Promise<LocalSource | ResolvedSource> {
  if (isPath(arg)) {
    // localSource copies a tree here; its files are in the manifest afterwards.
    mkdirSync(join(stateDir, 'tmp'), { recursive: true });
    const workDir = mkdtempSync(join(stateDir, 'tmp', 'sbuild-'));
    try {
      return await localSource(resolve(arg), { workDir });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  const [name = '', version] = arg.split('=');
  const root = await openRoot({ stateDir, repositories: debianSourceRepositories(distro.suite) });
  return resolveSource(root, { name, ...(version !== undefined ? { version } : {}) });
}

function distroOf(ctx: CommandContext): Distro {
  const name = typeof ctx.flags.distro === 'string' ? ctx.flags.distro : DEFAULT_DISTRO;
  const distro = getDistro(name);
  if (!distro) throw new UsageError(`unknown distro '${name}' (${DISTROS.map((d) => d.name).join(', ')})`);
  return distro;
}

export const sbuildCommand: Command = {
  name: 'sbuild',
  summary:
    "Build Debian binary packages from a source package on this machine, as sbuild does: the source from the distro's archive (NAME or NAME=VERSION, deb-src of the host's mirror) or a local source tree with debian/ or a .dsc (PATH, anything with a '/'), built in an environment of pinned packages (build-essential and the source's build dependencies). The .debs, .buildinfo, .changes and the build log go to the output directory. The store keeps the environment, the source and the packages built, so a second run of the same source builds nothing.",
  args: [{ name: 'NAME|PATH', help: 'a source package of the archive, or a path to a source tree or .dsc' }],
  flags: {
    distro: composeFlags.distro as (typeof composeFlags)[string],
    arch: composeFlags.arch as (typeof composeFlags)[string],
    'source-epoch': {
      type: 'string',
      metavar: 'SECONDS',
      help: "SOURCE_DATE_EPOCH of the build's trees (default: the date of the newest repository release file); the packages' own comes from debian/changelog",
    },
    'host-buildroot': composeFlags['host-buildroot'] as (typeof composeFlags)[string],
    'state-dir': composeFlags['state-dir'] as (typeof composeFlags)[string],
    output: { type: 'string', metavar: 'DIR', help: 'where the built files are written (default: .)' },
    ...buildFlags,
  },
  async run(ctx) {
    const [arg, ...rest] = ctx.positionals;
    if (!arg) throw new UsageError('the NAME|PATH argument is missing');
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    const distro = distroOf(ctx);
    const arch = typeof ctx.flags.arch === 'string' ? ctx.flags.arch : 'x86_64';
    const debArch = distro.arches[arch];
    if (!debArch) throw new UsageError(`${distro.name} has no architecture '${arch}'`);
    const givenEpoch = sourceEpochOf(ctx);
    const stateDir = stateDirOf(ctx);
    const repositories = debianRepositories(distro.suite);
    const resolver = aptResolver(stateDir);
    let plan: Awaited<ReturnType<typeof makeSbuildManifest>>;
    let source: ResolvedSource;
    try {
      const found = await sourceOf(arg, distro, stateDir);
      source = 'inline' in found ? found.source : found;
      const sourceEpoch = givenEpoch ?? (await resolver.releaseEpoch(debArch, repositories));
      plan = await makeSbuildManifest(
        {
          distro,
          arch,
          source,
          repositories,
          sourceEpoch,
          ...('inline' in found ? { inline: found.inline } : {}),
          ...(ctx.flags['host-buildroot'] === true ? {} : { buildRoot: true }),
        },
        resolver,
      );
    } catch (err) {
      if (!(err instanceof AptError || err instanceof ComposerError)) throw err;
      const unknown = err instanceof AptError && err.code === AptErrorCode.SourceNotFound;
      ctx.io.stderr.write(
        `forge sbuild: ${unknown ? `unknown source package '${arg}' in ${distro.name}: ` : ''}${err.message} [${err.code}]\n`,
      );
      return 1;
    }
    const outDir = resolve(typeof ctx.flags.output === 'string' ? ctx.flags.output : '.');
    mkdirSync(outDir, { recursive: true });
    const exportDir = join(outDir, `.export-${process.pid}`);
    ctx.io.stdout.write(
      `Building ${source.name} ${source.version} for ${distro.name} ${debArch}: ${plan.environment.flat().length} packages in the build environment\n`,
    );
    try {
      const result = await buildPlan(
        ctx,
        {
          manifest: plan.manifest,
          exports: [SBUILD_PIPELINES.debs],
          checkpoints: [...SBUILD_CHECKPOINTS],
        },
        exportDir,
      );
      if (!result.success) {
        ctx.io.stderr.write(
          `forge sbuild: the build of ${source.name} ${source.version} failed${failure(result)}\n`,
        );
        return 1;
      }
      const built = join(exportDir, SBUILD_PIPELINES.debs);
      for (const name of readdirSync(built).sort()) {
        renameSync(join(built, name), join(outDir, name));
        ctx.io.stdout.write(`${join(outDir, name)}\n`);
      }
      return 0;
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      ctx.io.stderr.write(`forge sbuild: ${err.message} [${err.code}]\n`);
      return 1;
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
  },
};

/** Where the build failed and the end of that stage's output (the sbuild stage's ends with the log's tail). */
function failure(result: Awaited<ReturnType<typeof buildPlan>>): string {
  for (const p of result.pipelines) {
    const failed = p.stages.find((s) => !s.success);
    if (failed) {
      const tail = failed.output.trim().split('\n').slice(-30).join('\n');
      return ` in ${failed.name} of pipeline ${p.name}; its output ends:\n${tail}`;
    }
  }
  return '';
}
