/**
 * Reading, validating and loading OSBuild manifests of format version 2, with OSBuild's semantics
 * (`osbuild/formats/v2.py`): references normalised to `{ref: options}`, pipeline references
 * without the `name:` prefix silently dropped, pipeline references resolved to ids of earlier
 * pipelines, devices ordered by parent with cycles refused, duplicate names refused.
 *
 * Where OSBuild would stop with a Python exception while loading (an unknown reference, a device
 * cycle, a duplicate pipeline), validation here reports it as one more validation error with its
 * JSON path, so that every problem of a manifest is reported at once and none as a stack trace.
 */
import { ManifestError, ManifestErrorCode } from './errors.ts';
import { deviceId, inputId, mountId, stageId } from './ids.ts';
import type {
  Device,
  Input,
  InputOrigin,
  JsonObject,
  Manifest,
  Mount,
  Pipeline,
  Source,
  Stage,
} from './model.ts';
import type { ModuleIndex } from './module-index.ts';
import { nameError } from './names.ts';
import { DEFAULT_MAX_DEPTH, parseJson, pyDumpsMember, pyKeys, pyRepr, pyTruthy } from './pyjson.ts';
import { LEGACY_ITEM_KEYS, MANIFEST_V2_SCHEMA, type ModuleClass } from './schema.ts';
import { type JsonPath, Schema, type ValidationResult } from './validation.ts';

/** Largest manifest accepted by default: real manifests with thousands of packages stay far below. */
export const DEFAULT_MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ReadOptions {
  maxBytes?: number;
  maxDepth?: number;
}

/** Parses manifest bytes: size limit, strict UTF-8, JSON as Python reads it. */
export function parseManifestText(data: Uint8Array | string, options: ReadOptions = {}): unknown {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > maxBytes) {
    throw new ManifestError(
      ManifestErrorCode.TooLarge,
      `manifest is ${size} bytes, more than the limit of ${maxBytes} bytes`,
    );
  }
  let text: string;
  if (typeof data === 'string') {
    text = data;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
    } catch {
      throw new ManifestError(ManifestErrorCode.JsonSyntax, 'manifest is not valid UTF-8 text');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new ManifestError(ManifestErrorCode.JsonSyntax, 'not valid JSON: unexpected UTF-8 byte order mark');
  }
  return parseJson(text, { maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH });
}

/** Checks that `desc` is a manifest of format version 2 (OSBuild assumes "1" when none is given). */
export function detectFormat(desc: unknown): void {
  if (typeof desc !== 'object' || desc === null || Array.isArray(desc)) {
    throw new ManifestError(ManifestErrorCode.UnsupportedFormat, 'a manifest must be a JSON object');
  }
  const version = (desc as JsonObject).version ?? '1';
  if (version !== '2') {
    throw new ManifestError(
      ManifestErrorCode.UnsupportedFormat,
      `unsupported manifest format: version ${pyRepr(version)}; only version '2' is supported`,
    );
  }
}

export interface LoadOptions {
  /** Module schemas (stages, devices, inputs, mounts, sources); without it modules are not checked. */
  index?: ModuleIndex;
}

/** A manifest that did not validate; `result` holds every error. */
export class ManifestValidationError extends ManifestError {
  readonly result: ValidationResult;

  constructor(result: ValidationResult) {
    const first = result.errors[0];
    super(
      ManifestErrorCode.Invalid,
      `manifest has ${result.size} validation error(s)${first ? `, first: ${first.message}` : ''}`,
      first?.path ?? [],
    );
    this.result = result;
  }
}

const manifestSchema = new Schema(MANIFEST_V2_SCHEMA);

/**
 * Validates a parsed manifest: OSBuild's schema, each module's schema when an index is given, and
 * the loading rules. Returns every error found; never throws for bad content.
 */
export function validateManifest(desc: unknown, options: LoadOptions = {}): ValidationResult {
  return analyse(desc, options).result;
}

/** Loads a parsed manifest, computing every id; throws `ManifestValidationError` if it is invalid. */
export function loadManifest(desc: unknown, options: LoadOptions = {}): Manifest {
  const { result, manifest } = analyse(desc, options);
  if (!result.valid || !manifest) throw new ManifestValidationError(result);
  return manifest;
}

function analyse(desc: unknown, options: LoadOptions): { result: ValidationResult; manifest?: Manifest } {
  detectFormat(desc);
  const normalised = withItemsAliases(desc as JsonObject);
  const result = manifestSchema.validate(normalised);
  if (options.index) validateModules(normalised, options.index, result);
  if (!result.valid) return { result };
  const manifest = new Loader(result).load(normalised);
  return { result, manifest };
}

/** The manifest with legacy item keys (`urls`, `commits`) of sources renamed to `items`. */
function withItemsAliases(desc: JsonObject): JsonObject {
  const sources = desc.sources;
  if (!isObject(sources)) return desc;
  let changed = false;
  const renamed: JsonObject = {};
  for (const [type, source] of Object.entries(sources)) {
    const alias = LEGACY_ITEM_KEYS[type];
    if (alias && isObject(source) && !('items' in source) && alias in source) {
      const { [alias]: items, ...rest } = source;
      renamed[type] = { items, ...rest };
      changed = true;
    } else {
      renamed[type] = source;
    }
  }
  return changed ? { ...desc, sources: renamed } : desc;
}

function validateModules(desc: JsonObject, index: ModuleIndex, result: ValidationResult): void {
  const check = (klass: ModuleClass, mod: unknown, path: JsonPath, name?: string): void => {
    const type = name ?? (isObject(mod) ? mod.type : undefined);
    if (typeof type !== 'string' || type === '') return;
    const schema = index.schemaFor(klass, type);
    if (!schema) result.fail(`could not find schema information for '${type}'`, path);
    else result.merge(schema.validate(mod), path);
  };
  if (isObject(desc.sources)) {
    for (const [type, source] of Object.entries(desc.sources))
      check('Source', source, ['sources', type], type);
  }
  if (!Array.isArray(desc.pipelines)) return;
  desc.pipelines.forEach((pipeline, p) => {
    if (!isObject(pipeline) || !Array.isArray(pipeline.stages)) return;
    pipeline.stages.forEach((stage, s) => {
      if (!isObject(stage)) return;
      const path: JsonPath = ['pipelines', p, 'stages', s];
      check('Stage', stage, path);
      for (const [klass, group] of [
        ['Device', 'devices'],
        ['Input', 'inputs'],
        ['Mount', 'mounts'],
      ] as const) {
        const items = stage[group];
        if (Array.isArray(items)) {
          for (const item of items) {
            if (isObject(item)) check(klass, item, [...path, group, String(item.name)]);
          }
        } else if (isObject(items)) {
          for (const [name, item] of Object.entries(items)) check(klass, item, [...path, group, name]);
        }
      }
    });
  });
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `value or {}` of Python, for option objects. */
function optionsOr(value: unknown): JsonObject {
  return pyTruthy(value) ? (value as JsonObject) : {};
}

class Loader {
  readonly #result: ValidationResult;
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #sourceRefs = new Set<string>();

  constructor(result: ValidationResult) {
    this.#result = result;
  }

  load(desc: JsonObject): Manifest {
    const metadata: JsonObject = isObject(desc.metadata) ? desc.metadata : {};
    const sources: Source[] = [];
    for (const [type, sdesc] of Object.entries(isObject(desc.sources) ? desc.sources : {})) {
      const s = sdesc as JsonObject;
      if (!isObject(s.items)) {
        this.#result.fail('source items must be an object keyed by checksum', ['sources', type, 'items']);
        continue;
      }
      sources.push({ type, items: s.items, options: isObject(s.options) ? s.options : {} });
      for (const key of Object.keys(s.items)) {
        // The item is stored as sources/<content type>/<key>.
        this.#checkName('source item', key, ['sources', type, 'items', key]);
        this.#sourceRefs.add(key);
      }
    }
    const pipelines = Array.isArray(desc.pipelines) ? desc.pipelines : [];
    pipelines.forEach((p, i) => {
      this.#loadPipeline(p as JsonObject, ['pipelines', i]);
    });
    return { pipelines: [...this.#pipelines.values()], sources, metadata };
  }

  #fail(message: string, path: JsonPath): void {
    this.#result.fail(message, path);
  }

  /** Fails when `name` cannot be one path component (it becomes a directory or a file). */
  #checkName(what: string, name: string, path: JsonPath): void {
    const message = nameError(name, what);
    if (message !== undefined) this.#fail(message, path);
  }

  #resolve(ref: string, path: JsonPath): string | null | undefined {
    const target = this.#pipelines.get(ref.slice('name:'.length));
    if (!target) {
      this.#fail(`Unknown pipeline reference: ${ref}`, path);
      return undefined;
    }
    return target.id;
  }

  #loadPipeline(desc: JsonObject, path: JsonPath): void {
    const name = desc.name;
    if (typeof name !== 'string') {
      this.#fail(`pipeline name must be a string, not ${pyRepr(name ?? null)}`, [...path, 'name']);
      return;
    }
    if (this.#pipelines.has(name)) {
      this.#fail(`Name ${name} already exists`, [...path, 'name']);
      return;
    }
    // An exported pipeline is written to <output directory>/<name>.
    this.#checkName('pipeline name', name, [...path, 'name']);
    let build: string | null = null;
    if (typeof desc.build === 'string' && desc.build !== '') {
      if (!desc.build.startsWith('name:')) {
        this.#fail(`build must reference a pipeline as 'name:<pipeline>', not ${pyRepr(desc.build)}`, [
          ...path,
          'build',
        ]);
      } else {
        build = this.#resolve(desc.build, [...path, 'build']) ?? null;
      }
    }
    const sourceEpochJson = desc['source-epoch'] !== undefined ? pyDumpsMember(desc, 'source-epoch') : null;
    const pipeline: Pipeline = {
      name,
      build,
      runner: typeof desc.runner === 'string' ? desc.runner : null,
      sourceEpoch: typeof desc['source-epoch'] === 'number' ? desc['source-epoch'] : null,
      stages: [],
      id: null,
    };
    const stages = Array.isArray(desc.stages) ? desc.stages : [];
    stages.forEach((s, i) => {
      const stage = this.#loadStage(s as JsonObject, pipeline, sourceEpochJson, [...path, 'stages', i]);
      pipeline.stages.push(stage);
      pipeline.id = stage.id;
    });
    this.#pipelines.set(name, pipeline);
  }

  #loadStage(desc: JsonObject, pipeline: Pipeline, sourceEpoch: string | null, path: JsonPath): Stage {
    const devices = this.#loadDevices(isObject(desc.devices) ? desc.devices : {}, [...path, 'devices']);
    const inputs = new Map<string, Input>();
    for (const [name, idesc] of Object.entries(isObject(desc.inputs) ? desc.inputs : {})) {
      // Each input is mapped to <run>/inputs/<name> on the host.
      this.#checkName('input name', name, [...path, 'inputs', name]);
      inputs.set(name, this.#loadInput(name, idesc as JsonObject, [...path, 'inputs', name]));
    }
    const mounts = new Map<string, Mount>();
    const mountDescs = Array.isArray(desc.mounts) ? desc.mounts : [];
    mountDescs.forEach((m, i) => {
      const mount = this.#loadMount(m as JsonObject, devices, [...path, 'mounts', i]);
      if (!mount) return;
      if (mounts.has(mount.name)) this.#fail(`Duplicated mount '${mount.name}'`, [...path, 'mounts', i]);
      else mounts.set(mount.name, mount);
    });
    const stage = {
      type: desc.type as string,
      options: optionsOr(desc.options),
      build: pipeline.build,
      base: pipeline.id,
      sourceEpoch,
    };
    return { ...stage, inputs, devices, mounts, id: stageId(stage, inputs, mounts) };
  }

  /** Devices in dependency order: parents before children; cycles and missing parents refused. */
  #loadDevices(descs: JsonObject, path: JsonPath): Map<string, Device> {
    const devices = new Map<string, Device>();
    let todo = pyKeys(descs);
    while (todo.length > 0) {
      const remaining: string[] = [];
      for (const name of todo) {
        const desc = descs[name] as JsonObject;
        const parentName = desc.parent;
        let parent: Device | null = null;
        if (typeof parentName === 'string' && parentName !== '') {
          const found = devices.get(parentName);
          if (!found) {
            if (!todo.includes(parentName)) {
              this.#fail(`Missing parent device '${parentName}' for '${name}'`, [...path, name, 'parent']);
              return devices;
            }
            remaining.push(name);
            continue;
          }
          parent = found;
        }
        const type = desc.type as string;
        const options = optionsOr(desc.options);
        devices.set(name, { name, type, parent, options, id: deviceId(type, parent, options) });
      }
      if (remaining.length === todo.length) {
        this.#fail("Cycle detected in 'devices'", path);
        return devices;
      }
      todo = remaining;
    }
    return devices;
  }

  #loadInput(name: string, desc: JsonObject, path: JsonPath): Input {
    const type = desc.type as string;
    const origin = desc.origin as InputOrigin;
    const options = optionsOr(desc.options);
    const raw = desc.references ?? {};
    // A dict in OSBuild: a repeated reference keeps its first position and its last options, and
    // only then are pipeline names resolved (two names may resolve to one id).
    const entries = new Map<string, JsonObject>(
      Array.isArray(raw)
        ? raw.map((r) =>
            typeof r === 'string'
              ? [r, {}]
              : [(r as JsonObject).id as string, optionsOr((r as JsonObject).options)],
          )
        : Object.entries(raw as JsonObject).map(([k, v]) => [k, optionsOr(v)]),
    );
    const refs = new Map<string, JsonObject>();
    if (origin === 'org.osbuild.pipeline') {
      for (const [ref, opts] of entries) {
        // OSBuild drops pipeline references that do not use the `name:` form.
        if (!ref.startsWith('name:')) continue;
        const id = this.#resolve(ref, [...path, 'references']);
        if (id !== undefined) refs.set(String(id), opts);
      }
    } else {
      const unknown = [...entries.keys()].filter((ref) => !this.#sourceRefs.has(ref));
      if (unknown.length > 0) {
        // Worded as OSBuild's error, which prints the Python set of unknown references.
        const set = unknown.map((r) => pyRepr(r)).join(', ');
        this.#fail(`Unknown source reference(s) {${set}}`, [...path, 'references']);
      }
      for (const [ref, opts] of entries) refs.set(ref, opts);
    }
    return { name, type, origin, options, refs, id: inputId(type, origin, refs, options) };
  }

  #loadMount(desc: JsonObject, devices: Map<string, Device>, path: JsonPath): Mount | undefined {
    const name = desc.name as string;
    const type = desc.type as string;
    let device: Device | null = null;
    if (pyTruthy(desc.source)) {
      const found = devices.get(desc.source as string);
      if (!found) {
        this.#fail(`Unknown device '${String(desc.source)}' for mount '${name}'`, [...path, 'source']);
        return undefined;
      }
      device = found;
    }
    const partition = typeof desc.partition === 'number' ? desc.partition : null;
    const target = typeof desc.target === 'string' ? desc.target : null;
    const options = desc.options === undefined ? {} : (desc.options as JsonObject | null);
    const partitionJson = partition !== null ? pyDumpsMember(desc, 'partition') : null;
    return {
      name,
      type,
      device,
      partition,
      partitionJson,
      target,
      options,
      id: mountId(type, device, pyTruthy(partition) ? partitionJson : null, target, options),
    };
  }
}
