import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { planPackages } from '@debian-forge/composer';
import { EngineError, ostreeCommitOf } from '@debian-forge/engine';
import { buildFlags, buildPlan } from '../build-plan.ts';
import { type Command, UsageError } from '../command.ts';
import { composeErrorMessage, composeFlags, planCompose } from '../compose-request.ts';

export const composeCommand: Command = {
  name: 'compose',
  summary:
    'Build an image from a blueprint on this machine: make the manifest (as `forge manifest`), build it (as `forge build`) with progress, and put the image in the output directory. The store under the state directory keeps the package layers and the finished system, so the next compose of a similar blueprint starts from there.',
  args: [{ name: 'BLUEPRINT', help: 'blueprint file in osbuild-composer format (.toml or .json)' }],
  flags: {
    ...composeFlags,
    output: { type: 'string', metavar: 'DIR', help: 'where the image (and manifest.json) are written' },
    ...buildFlags,
  },
  async run(ctx) {
    const output = ctx.flags.output;
    if (typeof output !== 'string') throw new UsageError('--output is required');
    let planned: Awaited<ReturnType<typeof planCompose>>;
    try {
      planned = await planCompose(ctx);
    } catch (err) {
      const message = composeErrorMessage(err);
      if (!message) throw err;
      ctx.io.stderr.write(`forge compose: ${message}\n`);
      return String((err as { code?: string }).code).startsWith('FORGE_ERR_BLUEPRINT_') ? 2 : 1;
    }
    const { target, plan } = planned;
    const outDir = resolve(output);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(plan.manifest, null, 2)}\n`);
    const exportDir = join(outDir, `.export-${process.pid}`);
    const { filename } = plan.artifact;
    ctx.io.stdout.write(
      `Composing ${target.imageType.name} for ${target.distro.name}: ${planPackages(plan).length} packages\n`,
    );
    for (const b of plan.built ?? []) {
      ctx.io.stdout.write(
        `Built from source: ${b.name} ${b.version} ${b.arch} (${b.source.name} ${b.source.version})\n`,
      );
    }
    try {
      const result = await buildPlan(ctx, plan, exportDir);
      if (!result.success) {
        ctx.io.stdout.write('Compose failed\n');
        return 1;
      }
      // As a worker finds it: the artifact is the file of that name in the first export.
      const image = join(outDir, filename);
      renameSync(join(exportDir, plan.exports[0] as string, filename), image);
      ctx.io.stdout.write(`Image: ${image}\n`);
      const commit = ostreeCommitOf(result.metadata);
      if (commit) ctx.io.stdout.write(`OSTree commit: ${commit.id} (ref ${commit.ref})\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      ctx.io.stderr.write(`forge compose: ${err.message} [${err.code}]\n`);
      return 1;
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
  },
};
