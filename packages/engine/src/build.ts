/**
 * Building a manifest, with OSBuild's semantics (`Manifest.depsolve`, `Manifest.build`,
 * `Pipeline.build_stages`): only the exported pipelines and what they depend on are built, minus
 * what the store has; every source is fetched first; each pipeline starts from its deepest stage
 * already stored; `--checkpoint` stages are committed to the cache; a failing stage stops the build.
 * Every device, mount and temporary directory is released on every way out.
 */
import {
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  checkName,
  getPipeline,
  type LibdirIndex,
  type Manifest,
  type Pipeline,
  pyDumps,
  runnerFor,
  type Stage,
} from '@debian-forge/manifest';
import { openStageApi } from './api/index.ts';
import { boundingSet, runSandboxed, stageCapabilities } from './buildroot.ts';
import { CleanupStack } from './cleanup-stack.ts';
import { DEFAULT_RUNDIR, ResourceRegistry } from './crash-registry.ts';
import { mountDevDir } from './dev-dir.ts';
import { closeDevices, type DeviceHandle, openDevices } from './devices/index.ts';
import { EngineError, EngineErrorCode } from './errors.ts';
import { HostModules } from './host-modules/index.ts';
import { ExternalInputs } from './inputs/external.ts';
import { mapInputs } from './inputs/index.ts';
import type { Monitor, StageResult } from './monitor.ts';
import { type MountHandle, mountAll, unmountAll } from './mounts/index.ts';
import { inside } from './paths.ts';
import { libdirRunner, stageRunner } from './runners.ts';
import { fetchSources, type SourceResult } from './sources/index.ts';
import { type CacheSize, ObjectStore, type TreeObject, type WorkObject } from './store.ts';

export interface BuildOptions {
  storeDir: string;
  /** Index over the libdirs: where each stage is taken from (the first that has it), its capabilities. */
  index: LibdirIndex;
  exports: string[];
  checkpoints: string[];
  cacheMaxSize?: CacheSize;
  /** Set as the cache size when neither `cacheMaxSize` nor the store says one. */
  defaultCacheMaxSize?: CacheSize;
  outputDirectory?: string;
  stageTimeout?: number;
  rundir?: string;
  /** Runner name of the host (`org.osbuild.debian12`). */
  hostRunner: string;
  /** `OSBUILD_EXPORT_FORCE_NO_PRESERVE_OWNER=1`: export without preserving ownership. */
  exportNoPreserveOwner?: boolean;
  /** Creates the monitor once the number of steps (sources + pipelines to build) is known. */
  monitor(totalSteps: number): Monitor;
}

export interface PipelineRun {
  name: string;
  id: string | null;
  stages: StageResult[];
}

export interface BuildResult {
  success: boolean;
  sources: SourceResult[];
  /** Pipelines built in this run, in build order. */
  pipelines: PipelineRun[];
  /** Metadata per pipeline name, per stage type, for every pipeline whose tree is available. */
  metadata: Record<string, Record<string, unknown>>;
  /** Where each exported pipeline was written. */
  exported: Record<string, string>;
  /** Each checkpointed stage id, and whether the cache holds it now. */
  checkpoints: Record<string, boolean>;
}

/** Python's fnmatch.fnmatchcase: `*`, `?`, `[seq]`, `[!seq]`. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
      } else {
        let set = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        else if (set.startsWith('^')) set = `\\${set}`;
        re += `[${set}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(name);
}

/** Stage ids marked by `--checkpoint` patterns (pipeline names mark their last stage). */
export function markCheckpoints(manifest: Manifest, patterns: string[]): Set<string> {
  const marked = new Set<string>();
  const matching = (s: string) => patterns.some((p) => fnmatch(s, p));
  for (const p of manifest.pipelines) {
    const last = p.stages[p.stages.length - 1];
    if (!last) continue;
    if (matching(p.name)) marked.add(last.id);
    for (const s of p.stages) if (matching(s.id) || matching(s.type)) marked.add(s.id);
  }
  return marked;
}

/** Names of the pipelines to build, dependencies first, skipping what the store holds. */
export async function depsolve(
  manifest: Manifest,
  store: ObjectStore,
  targets: string[],
): Promise<Pipeline[]> {
  const check = targets.map((t) => need(manifest, t));
  const order = new Map<string, Pipeline>();
  while (check.length > 0) {
    const p = check.pop() as Pipeline;
    if (await store.contains(p.id)) continue;
    order.delete(p.name);
    order.set(p.name, p);
    if (p.build) check.push(need(manifest, p.build));
    for (const stage of [...p.stages].reverse()) {
      if (await store.contains(stage.id)) break;
      for (const input of stage.inputs.values()) {
        if (input.origin !== 'org.osbuild.pipeline') continue;
        for (const ref of input.refs.keys()) check.push(need(manifest, ref));
      }
    }
  }
  return [...order.values()].reverse();
}

function need(manifest: Manifest, nameOrId: string): Pipeline {
  const p = getPipeline(manifest, nameOrId);
  if (!p) throw new EngineError(EngineErrorCode.NotFound, `pipeline ${nameOrId} not found in the manifest`);
  return p;
}

export async function buildManifest(manifest: Manifest, opts: BuildOptions): Promise<BuildResult> {
  // Each export becomes <output directory>/<name>: refused (a ManifestError) before anything is built.
  for (const name of opts.exports) {
    need(manifest, name);
    checkName(name, 'export');
  }
  // The registry first: it unmounts and detaches what dead builds left, before the store removes
  // their work directories (which would otherwise fail on a still-mounted mount point and stay).
  const registry = await ResourceRegistry.open(opts.rundir);
  let store: ObjectStore;
  try {
    store = await ObjectStore.open(opts.storeDir);
  } catch (err) {
    await registry.close();
    throw err;
  }
  try {
    if (opts.cacheMaxSize !== undefined) store.maximumSize = opts.cacheMaxSize;
    else if (opts.defaultCacheMaxSize !== undefined && !store.hasMaximumSize)
      store.maximumSize = opts.defaultCacheMaxSize;
    const checkpoints = markCheckpoints(manifest, opts.checkpoints);
    const hostModules = new HostModules(opts.index);
    const plan = await depsolve(manifest, store, opts.exports);
    const monitor = opts.monitor(manifest.sources.length + plan.length);
    const result: BuildResult = {
      success: true,
      sources: [],
      pipelines: [],
      metadata: {},
      exported: {},
      checkpoints: {},
    };

    for (const source of manifest.sources) {
      monitor.begin({
        name: source.type,
        id: null,
        build: null,
        runner: null,
        sourceEpoch: null,
        stageCount: 0,
        source: true,
      });
      const [res] = await fetchSources([source], store.sourcesDir, {
        hostModules,
        log: (line) => monitor.log(`${line}\n`, `sources/${source.type}`),
        onEvent: (e) =>
          monitor.log(
            `${e.cached ? 'cached' : e.error ? 'failed' : 'fetched'} ${e.checksum}\n`,
            `sources/${e.type}`,
          ),
      });
      const sr = res ?? { type: source.type, success: true, items: [] };
      result.sources.push(sr);
      const failed = sr.items.filter((i) => i.error);
      monitor.result({
        name: `source ${source.type}`,
        source_type: source.type,
        success: sr.success,
        output: sr.success
          ? `source ${source.type} finished successfully`
          : `source ${source.type} finished unsuccessfully: ${failed[failed.length - 1]?.error ?? ''}`,
        results: sr.items.map((i) => ({ ...i })),
      });
      monitor.finish({ name: source.type });
      if (!sr.success) {
        result.success = false;
        return result;
      }
    }
    if (plan.length === 0 && opts.exports.length > 0) {
      monitor.log(`nothing to build: every exported pipeline is in the store\n`, 'osbuild.main_cli');
    }

    const builder = new PipelineBuilder(manifest, store, registry, monitor, opts, checkpoints, hostModules);
    for (const pipeline of plan) {
      const run = await builder.build(pipeline);
      result.pipelines.push(run);
      if (run.stages.some((s) => !s.success)) {
        result.success = false;
        break;
      }
    }

    for (const p of manifest.pipelines) {
      if (!p.id) continue;
      const obj = await store.get(p.id);
      if (!obj) continue;
      const data: Record<string, unknown> = {};
      for (const s of p.stages) {
        const md = readMeta(obj, s.id);
        if (md) data[s.type] = { ...((data[s.type] as Record<string, unknown>) ?? {}), ...md };
      }
      if (Object.keys(data).length > 0) result.metadata[p.name] = data;
    }

    for (const id of checkpoints) result.checkpoints[id] = await store.isCached(id);

    if (result.success && opts.outputDirectory) {
      const outputDirectory = opts.outputDirectory;
      mkdirSync(outputDirectory, { recursive: true });
      const names = [...new Set(opts.exports)];
      const ids = names.map((name) => need(manifest, name).id);
      for (const name of names) {
        const p = need(manifest, name);
        const obj = p.id ? await store.get(p.id) : undefined;
        if (!obj) throw new EngineError(EngineErrorCode.Store, `pipeline ${name} has no tree to export`);
        const dest = inside(
          outputDirectory,
          name,
          { what: 'export' },
          (message, cause) => new EngineError(EngineErrorCode.Store, message, { cause }),
        );
        // Nothing reads an object of this run after its export, unless another export is the same.
        const once = ids.filter((id) => id === p.id).length === 1;
        await store.export(obj, dest, !opts.exportNoPreserveOwner, once);
        result.exported[name] = dest;
      }
    }
    return result;
  } finally {
    await registry.close();
    await store.close();
  }
}

function readMeta(obj: TreeObject, stageId: string): Record<string, unknown> | undefined {
  const path = join(obj.metaDir, `${stageId}.json`);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

class PipelineBuilder {
  readonly #bounding = boundingSet();

  constructor(
    readonly manifest: Manifest,
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
    readonly monitor: Monitor,
    readonly opts: BuildOptions,
    readonly checkpoints: Set<string>,
    readonly hostModules: HostModules,
  ) {}

  async build(p: Pipeline): Promise<PipelineRun> {
    const runner = runnerFor(this.manifest, p, this.opts.hostRunner);
    this.monitor.begin({
      name: p.name,
      id: p.id,
      build: p.build,
      runner: libdirRunner(this.opts.index.libdirs, runner).name,
      sourceEpoch: p.sourceEpoch,
      stageCount: p.stages.length,
    });
    const run: PipelineRun = { name: p.name, id: p.id, stages: [] };
    try {
      if (p.stages.length === 0 || (await this.store.contains(p.id))) return run;
      let buildRoot = '/';
      if (p.build) {
        const b = await this.store.get(p.build);
        if (!b)
          throw new EngineError(
            EngineErrorCode.Store,
            `build tree ${p.build} of pipeline ${p.name} is not available`,
          );
        buildRoot = b.tree;
      }
      const obj = this.store.newObject();
      obj.sourceEpoch = p.sourceEpoch;
      const todo: Stage[] = [];
      for (const stage of [...p.stages].reverse()) {
        const base = await this.store.get(stage.id);
        if (base) {
          await this.store.initFrom(obj, base);
          this.monitor.log(`starting from stored stage ${stage.type} ${stage.id}\n`, 'osbuild.monitor');
          break;
        }
        todo.unshift(stage);
      }
      for (const stage of todo) {
        this.monitor.stage({ type: stage.type, id: stage.id, options: stage.options });
        const r = await this.#runStage(p, stage, obj, buildRoot, runner);
        this.monitor.result(r, readMeta(obj, stage.id));
        run.stages.push(r);
        if (!r.success) return run;
        if (this.checkpoints.has(stage.id)) {
          // After the pipeline's last stage the tree does not change any more: it moves into the
          // cache, and the pipeline's id is read from there.
          const last = stage === p.stages[p.stages.length - 1];
          if ((await this.store.commit(obj, stage.id, last)) && last) return run;
        }
      }
      await obj.clampMtimes();
      if (p.id) this.store.setFloating(p.id, obj);
      return run;
    } finally {
      this.monitor.finish({ name: p.name });
    }
  }

  async #runStage(
    p: Pipeline,
    stage: Stage,
    obj: WorkObject,
    buildRoot: string,
    runner: string,
  ): Promise<StageResult> {
    const { cmdline, ...dirs } = stageDirs(this.store.tempDir('buildroot-tmp-'), buildRoot);
    const metaFile = join(obj.metaDir, `.${stage.id}.tmp.json`);
    writeFileSync(metaFile, '');
    const log = (line: string) => this.monitor.log(`${line}\n`, `stages/${stage.type}`);
    // Mounts are released before the devices under them, whatever the stage did.
    const cleanup = new CleanupStack();
    try {
      // The stage's own libdir is /run/osbuild/lib in its sandbox: OSBuild's stages import from it.
      const libdir = this.opts.index.libdirOf('Stage', stage.type);
      if (!libdir)
        throw new EngineError(
          EngineErrorCode.NotFound,
          `stage ${stage.type} is in none of the libdirs (${this.opts.index.libdirs.join(', ')})`,
        );
      const chosen = stageRunner(libdir, this.opts.index.libdirs, runner);
      // A libdir's input modules hold what they mapped until the stage has ended.
      const external = new ExternalInputs({
        modules: this.hostModules,
        rundir: this.opts.rundir ?? DEFAULT_RUNDIR,
        tmpDir: dirs.tmp,
        registry: this.registry,
        log,
      });
      cleanup.defer(() => external.close());
      const inputs = await mapInputs(stage.inputs, {
        inputsDir: dirs.inputs,
        sourcesDir: this.store.sourcesDir,
        pipeline: (id) => this.store.get(id),
        external,
      });
      // The stage's /dev first: every device node of the stage is made in it.
      const dev = await mountDevDir(dirs.dev, this.registry, log);
      cleanup.defer(() => dev.close());
      const devices = await openDevices(stage.devices, {
        tree: obj.tree,
        devDir: dirs.dev,
        registry: this.registry,
        log,
        hostModules: this.hostModules,
      });
      cleanup.defer(() => closeDevices(devices, log));
      const mounts = await mountAll(stage.mounts, devices, {
        root: dirs.mounts,
        tree: obj.tree,
        registry: this.registry,
        log,
        hostModules: this.hostModules,
      });
      cleanup.defer(() => unmountAll(mounts, log));
      // After the mounts: a stage's own loop devices may back file systems it mounted in them.
      const api = await openStageApi({
        dir: dirs.api,
        metaFile,
        places: [
          ['/run/osbuild/tree', obj.tree],
          ['/var', dirs.var],
          ['/run/osbuild/mounts', dirs.mounts],
        ],
        registry: this.registry,
        log,
      });
      cleanup.defer(() => api.close());
      const argumentsFile = join(dirs.tmp, 'arguments');
      writeFileSync(
        argumentsFile,
        pyDumps(stageArguments(p, stage, { inputs, devices, mounts }, dirs.mounts)),
      );
      const capabilities = stageCapabilities(
        this.opts.index.meta('Stage', stage.type)?.capabilities ?? [],
        this.#bounding,
      );
      const r = await runSandboxed(
        {
          buildRoot,
          fromBuildPipeline: buildRoot !== '/',
          libdir,
          stageType: stage.type,
          runner: chosen.name,
          runnerLibdir: chosen.libdir,
          tree: obj.tree,
          metaFile,
          argumentsFile,
          inputsDir: dirs.inputs,
          mountsDir: dirs.mounts,
          varDir: dirs.var,
          etcDir: dirs.etc,
          devDir: dirs.dev,
          cmdlineFile: cmdline,
          capabilities,
          roBinds: inputs.binds,
          apiBinds: api.binds,
        },
        stageEnvironment(p),
        {
          timeoutSeconds: this.opts.stageTimeout,
          onOutput: (chunk) => this.monitor.log(chunk, `stages/${stage.type}`),
        },
      );
      // The relay has read every message the stage sent once it is stopped: the error is final then.
      await api.stop();
      return {
        name: stage.type,
        id: stage.id,
        success: r.exitCode === 0,
        output: r.output,
        error: api.error(),
      };
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      const output = `${err.message}\n`;
      this.monitor.log(output, `stages/${stage.type}`);
      return {
        name: stage.type,
        id: stage.id,
        success: false,
        output,
        error: { type: err.code, value: err.message },
      };
    } finally {
      // The stage's metadata is kept only once its mounts and devices are released.
      await cleanup.run();
      keepMeta(metaFile, join(obj.metaDir, `${stage.id}.json`));
    }
  }
}

function relative(root: string, path: string): string {
  return path === root ? '.' : path.slice(root.length + 1);
}

/**
 * The directories a stage's sandbox binds, made under `tmp`, and its kernel command line. /etc
 * starts with the build root's library cache, /var with a /var/tmp anyone may write (as OSBuild's).
 */
function stageDirs(tmp: string, buildRoot: string) {
  const dirs = {
    inputs: join(tmp, 'inputs'),
    mounts: join(tmp, 'mounts'),
    api: join(tmp, 'api'),
    var: join(tmp, 'var'),
    dev: join(tmp, 'dev'),
    etc: join(tmp, 'etc'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(dirs.var, 'tmp'));
  chmodSync(join(dirs.var, 'tmp'), 0o1777);
  const cache = join(buildRoot, 'etc/ld.so.cache');
  if (existsSync(cache)) copyFileSync(cache, join(dirs.etc, 'ld.so.cache'), constants.COPYFILE_FICLONE);
  const cmdline = join(tmp, 'cmdline');
  writeFileSync(cmdline, 'root=/dev/osbuild\n');
  return { ...dirs, tmp, cmdline };
}

/** What a stage reads from its arguments file: where its tree, devices, inputs and mounts are. */
function stageArguments(
  p: Pipeline,
  stage: Stage,
  held: {
    inputs: Awaited<ReturnType<typeof mapInputs>>;
    devices: Map<string, DeviceHandle>;
    mounts: Map<string, MountHandle>;
  },
  mountsDir: string,
): Record<string, unknown> {
  return {
    tree: '/run/osbuild/tree',
    paths: { devices: '/dev', inputs: '/run/osbuild/inputs', mounts: '/run/osbuild/mounts' },
    devices: Object.fromEntries(
      [...held.devices].map(([n, d]) => [n, { path: `/dev/${d.relpath}`, node: d.node }]),
    ),
    inputs: held.inputs.args,
    mounts: Object.fromEntries(
      [...held.mounts].map(([n, m]) => [
        n,
        m.hidden ? {} : { path: `/run/osbuild/mounts/${relative(mountsDir, m.path)}` },
      ]),
    ),
    options: stage.options,
    meta: { id: stage.id, ...(p.sourceEpoch !== null ? { 'source-epoch': p.sourceEpoch } : {}) },
  };
}

/** The environment of a stage: fixed and minimal, as OSBuild's. */
function stageEnvironment(p: Pipeline): Record<string, string> {
  const env: Record<string, string> = {
    container: 'bwrap-osbuild',
    LC_CTYPE: 'C.UTF-8',
    PATH: '/usr/sbin:/usr/bin',
    PYTHONPATH: '/run/osbuild/lib',
    PYTHONUNBUFFERED: '1',
  };
  if (process.env.TERM) env.TERM = process.env.TERM;
  if (p.sourceEpoch !== null) env.SOURCE_DATE_EPOCH = String(p.sourceEpoch);
  return env;
}

/** Keeps the metadata a stage wrote to `tmpFile` as `file`; an empty file (none written) goes. */
function keepMeta(tmpFile: string, file: string): void {
  if (!existsSync(tmpFile)) return;
  if (statSync(tmpFile).size > 0) renameSync(tmpFile, file);
  else rmSync(tmpFile);
}
