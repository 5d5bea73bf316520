import { pyDumps, validateManifest } from '@debian-forge/manifest';
import type { Command } from '../command.ts';
import { indexOf, manifestFlags, manifestPath, readManifest, validationText } from '../manifest-input.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary:
    'Check a manifest against the OSBuild format (and, with --libdir, the schemas of its stages) and report every error with its JSON path. Exit 0 when valid, 2 when not.',
  args: [{ name: 'MANIFEST', help: "manifest file (OSBuild format version 2), or '-' for standard input" }],
  flags: {
    ...manifestFlags,
    json: { type: 'boolean', help: "print the result as JSON (OSBuild's validation-error object)" },
  },
  async run(ctx) {
    const path = manifestPath(ctx);
    const index = indexOf(ctx);
    const desc = await readManifest(ctx, path);
    const result = validateManifest(desc, { index });
    const name = path === '-' ? '<stdin>' : path;
    if (ctx.flags.json) {
      ctx.io.stdout.write(`${pyDumps(result.valid ? { success: true } : result.toJSON())}\n`);
    } else {
      ctx.io.stdout.write(validationText(result, name));
    }
    return result.valid ? 0 : 2;
  },
};
