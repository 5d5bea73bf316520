import { writeFileSync } from 'node:fs';
import { planPackages } from '@debian-forge/composer';
import type { Command } from '../command.ts';
import { composeErrorMessage, composeFlags, planCompose } from '../compose-request.ts';

export const manifestCommand: Command = {
  name: 'manifest',
  summary:
    'Make the OSBuild manifest of a blueprint for a distro and image type: packages resolved with apt against the configured Debian mirror and pinned by SHA256, so building it needs nothing else. Exit 0, 1 when packages cannot be resolved, 2 for a bad blueprint or bad usage.',
  args: [{ name: 'BLUEPRINT', help: 'blueprint file in osbuild-composer format (.toml or .json)' }],
  flags: {
    ...composeFlags,
    out: {
      type: 'string',
      short: 'o',
      metavar: 'FILE',
      help: 'write the manifest to FILE instead of standard output',
    },
  },
  async run(ctx) {
    try {
      const { target, plan } = await planCompose(ctx);
      const text = `${JSON.stringify(plan.manifest, null, 2)}\n`;
      if (typeof ctx.flags.out === 'string') {
        writeFileSync(ctx.flags.out, text);
        ctx.io.stderr.write(
          `${ctx.flags.out}: ${target.imageType.name} manifest, ${planPackages(plan).length} packages, export '${plan.exports.join("', '")}'\n`,
        );
      } else {
        ctx.io.stdout.write(text);
      }
      return 0;
    } catch (err) {
      const message = composeErrorMessage(err);
      if (!message) throw err;
      ctx.io.stderr.write(`forge manifest: ${message}\n`);
      return err instanceof Error && 'code' in err && String(err.code).startsWith('FORGE_ERR_BLUEPRINT_')
        ? 2
        : 1;
    }
  },
};
