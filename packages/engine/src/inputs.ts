/**
 * Inputs, mapped for one stage as OSBuild's input services map them: each input gets a directory
 * `/run/osbuild/inputs/<name>` in the sandbox and an entry in the stage's arguments.
 *  - org.osbuild.files from sources: the files, hard-linked from the source cache by checksum;
 *    `data.files` maps each checksum to the reference's `metadata`.
 *  - org.osbuild.files from pipelines: each reference's `file` from that pipeline's tree.
 *  - org.osbuild.tree: a pipeline's whole tree.
 *  - org.osbuild.noop: an empty directory; `data.refs` lists the references.
 *  - org.osbuild.ostree: a new archive repository `repo` holding the referenced commits, pulled
 *    (`ostree pull-local`) from the source cache STORE/sources/org.osbuild.ostree/repo or from a
 *    pipeline's `/repo`, whose commit `/compose.json` names (`ostree-commit`); a reference's `ref`
 *    option becomes a ref of the commit. `data.refs` maps each commit id to its options.
 *  - org.osbuild.ostree.checkout: each commit, from the same places, checked out (`ostree
 *    checkout`) into the directory `<commit>` of the input; `data.refs` maps each commit id to
 *    `{path: <commit>}`, the directory relative to the input's path.
 * Trees and pipeline files are bound read-only into the sandbox by bwrap rather than mounted on
 * the host, so nothing is left mounted whatever happens to the engine.
 */
import { copyFileSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Input } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from './errors.ts';
import { run } from './exec.ts';
import { inside } from './paths.ts';
import type { TreeObject } from './store.ts';

export const INPUTS_IN_SANDBOX = '/run/osbuild/inputs';

export interface MappedInputs {
  /** `args.inputs` of the stage, paths already as the sandbox sees them. */
  args: Record<string, { path: string; data?: Record<string, unknown> }>;
  /** Read-only binds (host path → sandbox path) that bring pipeline trees and files in. */
  binds: [string, string][];
}

export interface InputContext {
  /** Host directory bound as /run/osbuild/inputs. */
  inputsDir: string;
  /** STORE/sources. */
  sourcesDir: string;
  /** A built pipeline's object, by pipeline id. */
  pipeline(id: string): Promise<TreeObject | undefined>;
}

function inputError(name: string) {
  return (message: string, cause: unknown) =>
    new EngineError(EngineErrorCode.Input, `input '${name}': ${message}`, { cause });
}

export async function mapInputs(inputs: Map<string, Input>, ctx: InputContext): Promise<MappedInputs> {
  const out: MappedInputs = { args: {}, binds: [] };
  mkdirSync(ctx.inputsDir, { recursive: true });
  for (const [name, input] of inputs) {
    const hostDir = inside(ctx.inputsDir, name, { what: 'input name' }, inputError(name));
    const sandboxDir = `${INPUTS_IN_SANDBOX}/${name}`;
    mkdirSync(hostDir, { recursive: true });
    switch (input.type) {
      case 'org.osbuild.files':
        out.args[name] = {
          path: sandboxDir,
          data: { files: await mapFiles(input, hostDir, sandboxDir, ctx, out) },
        };
        break;
      case 'org.osbuild.tree': {
        const [ref] = [...input.refs.keys()];
        const obj = ref && ref !== 'null' ? await ctx.pipeline(ref) : undefined;
        if (!obj)
          throw new EngineError(EngineErrorCode.Input, `input '${name}': unknown pipeline '${ref ?? ''}'`);
        out.binds.push([obj.tree, sandboxDir]);
        out.args[name] = { path: sandboxDir };
        break;
      }
      case 'org.osbuild.noop':
        out.args[name] = { path: sandboxDir, data: { refs: Object.fromEntries(input.refs) } };
        break;
      case 'org.osbuild.ostree':
        out.args[name] = {
          path: `${sandboxDir}/repo`,
          data: { refs: await pullCommits(input, hostDir, ctx) },
        };
        break;
      case 'org.osbuild.ostree.checkout':
        out.args[name] = { path: sandboxDir, data: { refs: await checkoutCommits(input, hostDir, ctx) } };
        break;
      default:
        throw new EngineError(EngineErrorCode.Input, `input '${name}': unsupported input type ${input.type}`);
    }
  }
  return out;
}

async function mapFiles(
  input: Input,
  hostDir: string,
  sandboxDir: string,
  ctx: InputContext,
  out: MappedInputs,
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
    out.binds.push([from, `${sandboxDir}/${file}`]);
    files[file] = metadata;
  }
  return files;
}

/** The repository holding a reference's commit, and the commit: the source cache's, or a pipeline's /repo. */
async function commitOf(
  input: Input,
  ref: string,
  ctx: InputContext,
): Promise<{ from: string; commit: string }> {
  let from: string;
  let commit: string;
  if (input.origin === 'org.osbuild.pipeline') {
    const obj = await ctx.pipeline(ref);
    if (!obj)
      throw new EngineError(EngineErrorCode.Input, `input '${input.name}': unknown pipeline '${ref}'`);
    const fail = inputError(input.name);
    const composeJson = inside(obj.tree, 'compose.json', {}, fail);
    let compose: { 'ostree-commit'?: unknown };
    try {
      compose = JSON.parse(readFileSync(composeJson, 'utf8'));
    } catch {
      throw new EngineError(
        EngineErrorCode.Input,
        `input '${input.name}': pipeline '${ref}' has no /compose.json naming its commit`,
      );
    }
    commit = String(compose['ostree-commit'] ?? '');
    from = inside(obj.tree, 'repo', {}, fail);
  } else {
    commit = ref;
    from = join(ctx.sourcesDir, 'org.osbuild.ostree', 'repo');
  }
  if (!/^[0-9a-f]{64}$/.test(commit))
    throw new EngineError(EngineErrorCode.Input, `input '${input.name}': '${commit}' is not a commit id`);
  return { from, commit };
}

async function pullCommits(
  input: Input,
  hostDir: string,
  ctx: InputContext,
): Promise<Record<string, unknown>> {
  const repo = join(hostDir, 'repo');
  await run(['ostree', 'init', '--mode=archive', `--repo=${repo}`]);
  const refs: Record<string, unknown> = {};
  for (const [ref, opts] of input.refs) {
    const { from, commit } = await commitOf(input, ref, ctx);
    await run(['ostree', 'pull-local', `--repo=${repo}`, from, commit]);
    if (typeof opts.ref === 'string' && opts.ref) {
      await run(['ostree', 'refs', `--repo=${repo}`, `--create=${opts.ref}`, commit]);
    }
    refs[commit] = opts;
  }
  return refs;
}

/** Each referenced commit checked out (`ostree checkout`) into `hostDir/<commit>`. */
async function checkoutCommits(
  input: Input,
  hostDir: string,
  ctx: InputContext,
): Promise<Record<string, { path: string }>> {
  const refs: Record<string, { path: string }> = {};
  for (const ref of input.refs.keys()) {
    const { from, commit } = await commitOf(input, ref, ctx);
    if (refs[commit]) continue;
    await run(['ostree', 'checkout', `--repo=${from}`, commit, join(hostDir, commit)]);
    refs[commit] = { path: commit };
  }
  return refs;
}
