/**
 * The index of the host-side modules the engine implements itself: sources, inputs, devices and
 * mounts, each type one file holding its schema and its code (`sources/<type>.ts`,
 * `inputs/<type>.ts`, `devices/<type>.ts`, `mounts/<type>.ts`), with OSBuild's option names. It
 * answers for them and takes stages from the libdir. Validation with this index checks a whole
 * manifest before anything runs.
 */
import {
  type LibdirIndex,
  type ModuleClass,
  type ModuleIndex,
  moduleSchema,
  Schema,
} from '@debian-forge/manifest';
import { DEVICE_TYPES } from './devices/index.ts';
import { INPUT_TYPES } from './inputs/index.ts';
import { MOUNT_TYPES } from './mounts/index.ts';
import { SOURCE_TYPES } from './sources/index.ts';

interface ModuleSchemas {
  klass: ModuleClass;
  name: string;
  schema?: Record<string, unknown>;
  schema2?: Record<string, unknown>;
}

/** `schema_2` (or, for sources, `schema`) of each module; a name may stand in several classes. */
const MODULES: ModuleSchemas[] = [
  ...[...SOURCE_TYPES.values()].map(({ type, schema }) => ({ klass: 'Source' as const, name: type, schema })),
  ...[...INPUT_TYPES.values()].map(({ type, schema2 }) => ({ klass: 'Input' as const, name: type, schema2 })),
  ...[...DEVICE_TYPES.values()].map(({ type, schema2 }) => ({
    klass: 'Device' as const,
    name: type,
    schema2,
  })),
  // A mount type without a schema (org.osbuild.noop) is not in OSBuild's index either.
  ...[...MOUNT_TYPES.values()].flatMap(({ type, schema2 }) =>
    schema2 ? [{ klass: 'Mount' as const, name: type, schema2 }] : [],
  ),
];

const BY_CLASS = new Map(MODULES.map((m) => [`${m.klass}/${m.name}`, m]));

/** Stages from the libdirs, everything else from the engine's own modules first, then the libdirs'. */
export class EngineIndex implements ModuleIndex {
  readonly libdir: LibdirIndex;
  readonly #compiled = new Map<string, Schema>();

  constructor(libdir: LibdirIndex) {
    this.libdir = libdir;
  }

  schemaFor(klass: ModuleClass, name: string): Schema | undefined {
    if (klass === 'Stage') return this.libdir.schemaFor(klass, name);
    const key = `${klass}/${name}`;
    const mod = BY_CLASS.get(key);
    // A type the engine has no module for runs as a libdir's host module, with its schema.
    if (!mod) return this.libdir.schemaFor(klass, name);
    let schema = this.#compiled.get(key);
    if (!schema) {
      schema = new Schema(moduleSchema(klass, name, mod.schema, mod.schema2));
      this.#compiled.set(key, schema);
    }
    return schema;
  }
}
