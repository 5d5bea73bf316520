import {
  describeManifest,
  detectRunner,
  hostRunnerName,
  loadManifest,
  ManifestValidationError,
  pyDumps,
  validateManifest,
} from '@debian-forge/manifest';
import type { Command } from '../command.ts';
import { indexOf, manifestFlags, manifestPath, osReleaseText, readManifest } from '../manifest-input.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary:
    'Print the manifest with the content id of every stage, pipeline references replaced by ids, as `osbuild --inspect` does. Exit 0, or 2 with the validation result when the manifest is invalid.',
  args: [{ name: 'MANIFEST', help: "manifest file (OSBuild format version 2), or '-' for standard input" }],
  flags: manifestFlags,
  async run(ctx) {
    const path = manifestPath(ctx);
    const index = indexOf(ctx);
    const desc = await readManifest(ctx, path);
    const result = validateManifest(desc, { index });
    if (!result.valid) throw new ManifestValidationError(result);
    const manifest = loadManifest(desc, { index });
    // OSBuild names the host's runner after the runner file it picks (Debian 12: org.osbuild.debian).
    const host = hostRunnerName(osReleaseText());
    const description = describeManifest(manifest, { hostRunner: detectRunner(host) ?? host });
    ctx.io.stdout.write(`${pyDumps(description)}\n`);
    return 0;
  },
};
