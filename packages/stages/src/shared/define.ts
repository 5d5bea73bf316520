/**
 * A stage's definition: its OSBuild type name, the texts and capabilities of its `.meta.json`, its
 * options as a zod schema, and the JSON Schemas of the inputs, devices and mounts it accepts. The
 * build turns it into the `.meta.json` that OSBuild's `META_JSON_SCHEMA` accepts (`schema_2`).
 */
import { z } from 'zod';

export interface StageDefinition<Options extends z.ZodType = z.ZodType> {
  type: string;
  summary: string;
  description: string[];
  capabilities?: string[];
  options: Options;
  /** `schema_2.inputs`: JSON Schema of the `inputs` object. Omitted: the stage takes no inputs. */
  inputs?: Record<string, unknown>;
  /** `schema_2.devices`; omitted: OSBuild's permissive default. */
  devices?: Record<string, unknown>;
  /** `schema_2.mounts`; omitted: OSBuild's permissive default. */
  mounts?: Record<string, unknown>;
}

export function defineStage<Options extends z.ZodType>(
  def: StageDefinition<Options>,
): StageDefinition<Options> {
  return def;
}

export interface MetaJson {
  summary: string;
  description: string[];
  capabilities?: string[];
  schema_2: Record<string, unknown>;
}

/** JSON Schema (draft-04) of a zod schema, as it appears inside a `.meta.json`. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-4', io: 'input' }) as Record<
    string,
    unknown
  >;
  return rest;
}

export function metaJsonOf(def: StageDefinition): MetaJson {
  const schema2: Record<string, unknown> = { options: jsonSchemaOf(def.options) };
  if (def.inputs) schema2.inputs = def.inputs;
  if (def.devices) schema2.devices = def.devices;
  if (def.mounts) schema2.mounts = def.mounts;
  return {
    summary: def.summary,
    description: def.description,
    ...(def.capabilities && def.capabilities.length > 0 ? { capabilities: def.capabilities } : {}),
    schema_2: schema2,
  };
}

/** JSON Schema for an `org.osbuild.files` input from sources or pipelines, named `name`. */
export function filesInput(name: string, required = true): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    ...(required ? { required: [name] } : {}),
    properties: { [name]: { type: 'object', additionalProperties: true } },
  };
}

/** JSON Schema for an `inputs` object accepting any named inputs. */
export const anyInputs: Record<string, unknown> = {
  type: 'object',
  additionalProperties: true,
};

/** JSON Schema for a `devices` object that must hold a device named `name` (as OSBuild's mkfs stages). */
export function requiredDevice(name: string): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: true,
    required: [name],
    properties: { [name]: { type: 'object', additionalProperties: true } },
  };
}

/**
 * A map whose keys must match `pattern`, emitted as OSBuild writes such maps: `patternProperties`
 * with `additionalProperties: false` (zod's record of a regex-checked key keeps no pattern in a
 * draft-04 schema).
 */
export function patternRecord<Value extends z.ZodType>(pattern: RegExp, value: Value) {
  return z.record(z.string().regex(pattern), value).meta({
    additionalProperties: false,
    patternProperties: { [pattern.source]: jsonSchemaOf(value) },
  });
}

/** An absolute path with no empty, `.` or `..` component (and not `/` itself). */
export const ABSOLUTE_PATH = /^(\/(?!\.\.?(\/|$))[^/]+)+$/;

/** JSON Schema for `inputs` that must hold an `org.osbuild.tree` input under each of `names`. */
export function treeInputs(...names: string[]): Record<string, unknown> {
  const tree = {
    type: 'object',
    additionalProperties: true,
    required: ['type'],
    properties: { type: { enum: ['org.osbuild.tree'] } },
  };
  return {
    type: 'object',
    additionalProperties: false,
    required: names,
    properties: Object.fromEntries(names.map((n) => [n, tree])),
  };
}

/** OSBuild's pattern for an absolute path in the tree without `..` components. */
const TREE_PATH = /^\/(?!\.\.)((?!\/\.\.\/).)+$/;

/** An object keyed by absolute paths in the tree, each holding `item`. */
export function pathKeyed<T extends z.ZodType>(item: T) {
  return patternRecord(TREE_PATH, item);
}

/** A file system UUID as OSBuild's grub stages accept it: a Linux UUID or a FAT volume id. */
export const fsUuid = z.xor([
  z
    .string()
    .regex(/^[0-9A-Za-z]{8}(-[0-9A-Za-z]{4}){3}-[0-9A-Za-z]{12}$/)
    .meta({ examples: ['9c6ae55b-cf88-45b8-84e8-64990759f39d'] }),
  z
    .string()
    .regex(/^[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$/)
    .meta({ examples: ['6699-AFB5'] }),
]);
