/**
 * The schemas of the host-side modules the engine implements itself — sources here,
 * inputs, devices and mounts from their own files (`inputs/<type>.ts`, `devices/<type>.ts`,
 * `mounts/<type>.ts`) — with OSBuild's option names, and an index that answers for them and takes stages from
 * the libdir. Validation with this index checks a whole manifest before anything runs.
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
import { options } from './module-schema.ts';
import { MOUNT_TYPES } from './mounts/index.ts';

const CHECKSUM = '(md5|sha1|sha256|sha384|sha512):[0-9a-f]{32,128}';

/** A source's schema: `items` keyed by checksum, each item as `item` says. */
const source = (item: Record<string, unknown>) => ({
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: { type: 'object', additionalProperties: false, patternProperties: { [CHECKSUM]: item } },
    options: { type: 'object' },
  },
});

interface ModuleSchemas {
  klass: ModuleClass;
  name: string;
  schema?: Record<string, unknown>;
  schema2?: Record<string, unknown>;
}

/** `schema_2` (or, for sources, `schema`) of each module; a name may stand in several classes. */
const MODULES: ModuleSchemas[] = [
  {
    klass: 'Source',
    name: 'org.osbuild.curl',
    schema: source({
      oneOf: [
        { type: 'string' },
        options(
          {
            url: { type: 'string' },
            insecure: { type: 'boolean' },
            secrets: options({ name: { type: 'string' } }, ['name']),
          },
          ['url'],
        ),
      ],
    }),
  },
  {
    klass: 'Source',
    name: 'org.osbuild.inline',
    schema: source(
      options({ encoding: { enum: ['base64', 'lzma+base64'] }, data: { type: 'string' } }, [
        'encoding',
        'data',
      ]),
    ),
  },
  {
    klass: 'Source',
    name: 'org.osbuild.ostree',
    // OSBuild's item pattern is unanchored; the fetcher itself takes whole commit checksums only.
    schema: {
      additionalProperties: false,
      required: ['items'],
      properties: {
        items: {
          type: 'object',
          additionalProperties: false,
          patternProperties: {
            '[0-9a-f]{5,64}': options(
              {
                remote: options(
                  {
                    url: { type: 'string' },
                    contenturl: { type: 'string' },
                    gpgkeys: { type: 'array', items: { type: 'string' } },
                    secrets: options({ name: { type: 'string' } }, ['name']),
                  },
                  ['url'],
                ),
              },
              ['remote'],
            ),
          },
        },
        options: { type: 'object' },
      },
    },
  },
];

for (const { type, schema2 } of INPUT_TYPES.values()) MODULES.push({ klass: 'Input', name: type, schema2 });
for (const { type, schema2 } of DEVICE_TYPES.values()) MODULES.push({ klass: 'Device', name: type, schema2 });
for (const { type, schema2 } of MOUNT_TYPES.values()) {
  if (schema2) MODULES.push({ klass: 'Mount', name: type, schema2 });
}

const BY_CLASS = new Map(MODULES.map((m) => [`${m.klass}/${m.name}`, m]));

/** Stages from the libdir, everything else from the engine's own modules. */
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
    if (!mod) return undefined;
    let schema = this.#compiled.get(key);
    if (!schema) {
      schema = new Schema(moduleSchema(klass, name, mod.schema, mod.schema2));
      this.#compiled.set(key, schema);
    }
    return schema;
  }
}
