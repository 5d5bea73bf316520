/**
 * `org.osbuild.files` (OSBuild's `inputs/org.osbuild.files`): from sources, the files hard-linked from the source cache by
 * checksum; from pipelines, each reference's `file` of that pipeline's tree, bound read-only into
 * the sandbox. `data.files` maps each file to the reference's `metadata`.
 */
import { copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Input } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { input as inputSchema } from '../module-schema.ts';
import { inside } from '../paths.ts';
import { type InputContext, type InputModule, inputError, type MappedInputs } from './common.ts';

async function mapFiles(
  input: Input,
  hostDir: string,
  sandboxDir: string,
  ctx: InputContext,
  binds: MappedInputs['binds'],
): Promise<Record<string, unknown>> {
  const files: Record<string, unknown> = {};
  const fail = inputError(input.name);
  for (const [ref, opts] of input.refs) {
    const metadata = (opts.metadata as Record<string, unknown> | undefined) ?? {};
    if (input.origin === 'org.osbuild.source') {
      const source = join(ctx.sourcesDir, 'org.osbuild.files', ref);
      const target = inside(hostDir, ref, { what: 'source reference' }, fail);
      try {
        linkSync(source, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          throw new EngineError(
            EngineErrorCode.Input,
            `input '${input.name}': source file ${ref} was not fetched`,
          );
        }
        if (code !== 'EXDEV' && code !== 'EEXIST') throw err;
        if (code === 'EXDEV') copyFileSync(source, target);
      }
      files[ref] = metadata;
      continue;
    }
    const obj = await ctx.pipeline(ref);
    if (!obj)
      throw new EngineError(EngineErrorCode.Input, `input '${input.name}': unknown pipeline '${ref}'`);
    const file = String(opts.file ?? '').replace(/^\/+/, '');
    if (!file)
      throw new EngineError(EngineErrorCode.Input, `input '${input.name}': reference ${ref} names no 'file'`);
    // bwrap binds what the host path leads to: a link the pipeline left in its tree must not
    // bring a host file into the sandbox.
    const from = inside(obj.tree, file, { what: 'file', relative: true }, fail);
    // The bind needs a mount point inside the read-only inputs directory.
    const mountPoint = inside(hostDir, file, { what: 'file', relative: true }, fail);
    mkdirSync(dirname(mountPoint), { recursive: true });
    writeFileSync(mountPoint, '');
    binds.push([from, `${sandboxDir}/${file}`]);
    files[file] = metadata;
  }
  return files;
}

export default {
  type: 'org.osbuild.files',
  schema2: inputSchema('org.osbuild.files', ['org.osbuild.source', 'org.osbuild.pipeline']),
  map: async (input, { hostDir, sandboxDir }, ctx, binds) => ({
    path: sandboxDir,
    data: { files: await mapFiles(input, hostDir, sandboxDir, ctx, binds) },
  }),
} satisfies InputModule;
