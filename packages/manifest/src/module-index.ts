/**
 * The hook through which validation learns the schemas of stages, devices, inputs, mounts and
 * sources. The manifest core depends only on the `ModuleIndex` interface; `LibdirIndex` reads an
 * OSBuild-layout libdir (`stages/<type>` + `stages/<type>.meta.json`, likewise for the other
 * classes), which is what the engine's registry and the real `osbuild --libdir` both read, or
 * several of them layered.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameProblem } from './names.ts';
import { parseJson } from './pyjson.ts';
import { META_JSON_SCHEMA, MODULE_FOLDERS, type ModuleClass, moduleSchema } from './schema.ts';
import { pathId, Schema } from './validation.ts';

export interface ModuleMeta {
  summary: string;
  description: string[];
  capabilities: string[];
  schema?: Record<string, unknown>;
  schema_2?: Record<string, unknown>;
}

export interface ModuleIndex {
  /**
   * The compiled schema for a module's description, or `undefined` when the module is unknown.
   * Validation reports an unknown module as OSBuild does ("could not find schema information").
   */
  schemaFor(klass: ModuleClass, name: string): Schema | undefined;
}

const metaSchema = new Schema(META_JSON_SCHEMA);

/** Checks a parsed `.meta.json` by OSBuild's rules; returns the problems, empty when valid. */
export function checkModuleMeta(meta: unknown): string[] {
  return metaSchema.validate(meta).errors.map((e) => `${pathId(e.path)}: ${e.message}`);
}

export class LibdirIndex implements ModuleIndex {
  /**
   * The libdirs, in the order they are searched: a module is taken from the first that has its
   * file, with that libdir's metadata (`--libdir` given more than once, forge's own first).
   */
  readonly libdirs: readonly string[];
  readonly #schemas = new Map<string, Schema | undefined>();
  readonly #warn: (message: string) => void;

  constructor(
    libdirs: string | readonly string[],
    warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {
    this.libdirs = typeof libdirs === 'string' ? [libdirs] : [...libdirs];
    this.#warn = warn;
  }

  /** The first libdir that has the module's file, or `undefined`. */
  libdirOf(klass: ModuleClass, name: string): string | undefined {
    // A module is a file of its folder: `..` or `a/b` would read another one.
    if (nameProblem(name) !== undefined) return undefined;
    return this.libdirs.find((libdir) => existsSync(join(libdir, MODULE_FOLDERS[klass], name)));
  }

  /** The module's metadata, or `undefined` if it is missing or invalid (with a warning, as OSBuild). */
  meta(klass: ModuleClass, name: string): ModuleMeta | undefined {
    const libdir = this.libdirOf(klass, name);
    if (libdir === undefined) return undefined;
    const metaPath = join(libdir, MODULE_FOLDERS[klass], `${name}.meta.json`);
    if (!existsSync(metaPath)) return undefined;
    let meta: unknown;
    try {
      meta = parseJson(readFileSync(metaPath, 'utf8'));
    } catch (err) {
      this.#warn(`WARNING: schema for ${metaPath} is invalid: ${(err as Error).message}`);
      return undefined;
    }
    const problems = checkModuleMeta(meta);
    if (problems.length > 0) {
      this.#warn(`WARNING: schema for ${metaPath} is invalid: ${problems.join('; ')}`);
      return undefined;
    }
    const m = meta as ModuleMeta;
    return { ...m, capabilities: m.capabilities ?? [] };
  }

  schemaFor(klass: ModuleClass, name: string): Schema | undefined {
    const key = `${klass}/${name}`;
    if (!this.#schemas.has(key)) {
      const meta = this.meta(klass, name);
      this.#schemas.set(
        key,
        meta ? new Schema(moduleSchema(klass, name, meta.schema, meta.schema_2)) : undefined,
      );
    }
    return this.#schemas.get(key);
  }
}
