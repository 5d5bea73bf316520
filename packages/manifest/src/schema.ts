/**
 * The JSON Schema (draft-04) of OSBuild's manifest format version 2, with OSBuild's semantics:
 * the same required keys, the same closed objects, and its quirks kept on purpose, because
 * manifests that OSBuild accepts must be accepted here and the other way round:
 *  - a pipeline's `name` is never type-checked (OSBuild's schema misspells the keyword as "type:");
 *  - input names are matched by an unanchored pattern;
 *  - devices, inputs and mounts are not required to be objects by the schema;
 *  - `references: []` matches two `oneOf` branches at once and is therefore invalid.
 * One addition: a source may give its items under its type's legacy key (`urls` for
 * `org.osbuild.curl`, `commits` for `org.osbuild.ostree`) instead of `items`.
 */

const openObject = { type: 'object', additionalProperties: true } as const;

export const LEGACY_ITEM_KEYS: Readonly<Record<string, string>> = {
  'org.osbuild.curl': 'urls',
  'org.osbuild.ostree': 'commits',
};

export const MANIFEST_V2_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { enum: ['2'] },
    pipelines: { $ref: '#/definitions/pipelines' },
    sources: { $ref: '#/definitions/sources' },
    metadata: { $ref: '#/definitions/metadata' },
  },
  definitions: {
    pipelines: { type: 'array', items: { $ref: '#/definitions/pipeline' } },
    pipeline: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: {},
        build: { type: 'string' },
        runner: { type: 'string' },
        'source-epoch': { type: 'integer' },
        stages: { $ref: '#/definitions/stages' },
      },
    },
    stages: { type: 'array', items: { $ref: '#/definitions/stage' } },
    stage: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { type: 'string' },
        options: openObject,
        inputs: { $ref: '#/definitions/inputs' },
        devices: { $ref: '#/definitions/devices' },
        mounts: { $ref: '#/definitions/mounts' },
      },
    },
    inputs: {
      additionalProperties: false,
      patternProperties: {
        '^[a-zA-Z][a-zA-Z0-9_\\-\\.]{0,254}': { $ref: '#/definitions/input' },
      },
    },
    input: {
      additionalProperties: false,
      required: ['type', 'origin', 'references'],
      properties: {
        type: { type: 'string' },
        origin: { enum: ['org.osbuild.source', 'org.osbuild.pipeline'] },
        references: { $ref: '#/definitions/reference' },
        options: openObject,
      },
    },
    reference: {
      oneOf: [
        { type: 'array', items: { type: 'string' } },
        openObject,
        {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id'],
            properties: { id: { type: 'string' }, options: openObject },
          },
        },
      ],
    },
    devices: { additionalProperties: { $ref: '#/definitions/device' } },
    device: {
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { type: 'string' },
        parent: { type: 'string' },
        options: openObject,
      },
    },
    mounts: { type: 'array', items: { $ref: '#/definitions/mount' } },
    mount: {
      additionalProperties: false,
      required: ['name', 'type'],
      properties: {
        name: { type: 'string' },
        type: { type: 'string' },
        source: { type: 'string' },
        target: { type: 'string' },
        partition: { type: 'number' },
        options: openObject,
      },
    },
    sources: { type: 'object', additionalProperties: { $ref: '#/definitions/source' } },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      properties: {
        items: { $ref: '#/definitions/reference' },
        options: openObject,
      },
    },
    metadata: {
      type: 'object',
      additionalProperties: false,
      properties: {
        exports: { type: 'array', items: { $ref: '#/definitions/named' } },
        generators: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string' }, version: { type: 'string' } },
          },
        },
      },
    },
    named: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string' } },
    },
  },
} as const;

/**
 * The schema a stage's, device's, input's, mount's or source's description is checked against,
 * built from its `.meta.json` exactly as OSBuild's `ModuleInfo.get_schema(version="2")` builds it.
 * `schema` is the v1 options schema, `schema2` the v2 property map; at least one is present.
 */
export function moduleSchema(
  klass: ModuleClass,
  name: string,
  schema: Record<string, unknown> | undefined,
  schema2: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = { type: 'object', additionalProperties: false };
  const v2 = schema2 && Object.keys(schema2).length > 0 ? schema2 : undefined;
  const v1 = schema && Object.keys(schema).length > 0 ? schema : undefined;
  let props: Record<string, unknown>;
  if (klass === 'Stage') {
    props = { type: { enum: [name] }, ...structuredClone(v2 ?? { options: v1 ?? {} }) };
    props.mounts ??= { type: 'array' };
    props.devices ??= { type: 'object', additionalProperties: true };
    result.properties = props;
    result.required = ['type'];
  } else if (klass === 'Device') {
    result.additionalProperties = true;
    props = { type: { enum: [name] }, options: structuredClone(v2 ?? v1 ?? {}) };
    result.properties = props;
  } else {
    Object.assign(result, structuredClone(klass === 'Mount' ? (v2 ?? {}) : (v2 ?? v1 ?? {})));
    props = (result.properties as Record<string, unknown> | undefined) ?? {};
    if (klass === 'Mount') {
      props.type = { enum: [name] };
      result.properties = props;
    }
  }
  // Module schemas are written as if they were the root, so their definitions move to the top.
  if ('definitions' in props) {
    result.definitions = props.definitions;
    delete props.definitions;
  }
  const options = props.options as Record<string, unknown> | undefined;
  if (options && typeof options === 'object' && 'definitions' in options) {
    result.definitions = options.definitions;
    delete options.definitions;
  }
  return result;
}

export type ModuleClass = 'Stage' | 'Device' | 'Input' | 'Mount' | 'Source';

/** The folder of each module class in an OSBuild libdir. */
export const MODULE_FOLDERS: Readonly<Record<ModuleClass, string>> = {
  Stage: 'stages',
  Device: 'devices',
  Input: 'inputs',
  Mount: 'mounts',
  Source: 'sources',
};

/** OSBuild's `META_JSON_SCHEMA`: what a `<module>.meta.json` file must look like. */
export const META_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['summary', 'description'],
  anyOf: [
    { required: ['schema'], not: { required: ['schema_2'] } },
    { required: ['schema_2'], not: { required: ['schema'] } },
    { required: ['schema', 'schema_2'] },
  ],
  properties: {
    summary: { type: 'string' },
    description: { type: 'array', items: { type: 'string' } },
    capabilities: { type: 'array', items: { type: 'string' } },
    schema: { type: 'object' },
    schema_2: { type: 'object' },
  },
} as const;
