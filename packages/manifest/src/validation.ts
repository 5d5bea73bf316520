/**
 * Validation results as data, in OSBuild's shape: every error has a message and a JSON path, all
 * errors are collected (never only the first), and a failed result serialises to
 * `{"type": "https://osbuild.org/validation-error", "title", "success": false, "errors": [...]}`.
 * Schema checks run on Ajv (draft-04, as OSBuild's `jsonschema.Draft4Validator`), with messages
 * worded as Python's jsonschema words them so that users of OSBuild read what they know.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import AjvDraft04 from 'ajv-draft-04';
import { compareCodePoints, numberFormOf, pyRepr } from './pyjson.ts';

export type JsonPath = (string | number)[];

export interface ValidationError {
  message: string;
  path: JsonPath;
}

export const VALIDATION_ERROR_TYPE = 'https://osbuild.org/validation-error';
export const VALIDATION_ERROR_TITLE = 'JSON Schema validation failed';

export interface ValidationErrorDocument {
  type: typeof VALIDATION_ERROR_TYPE;
  title: string;
  success: false;
  errors: ValidationError[];
}

/** OSBuild's textual id of a path: `.pipelines[0].stages[1].options`, `.` for the root. */
export function pathId(path: JsonPath): string {
  if (path.length === 0) return '.';
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p.includes(' ') ? `.'${p}'` : `.${p}`)).join('');
}

export class ValidationResult {
  readonly #errors = new Map<string, ValidationError>();

  get valid(): boolean {
    return this.#errors.size === 0;
  }

  get size(): number {
    return this.#errors.size;
  }

  /** Adds an error at `path`; the same message at the same path is kept once, as in OSBuild's set. */
  fail(message: string, path: JsonPath = []): void {
    this.#errors.set(`${pathId(path)}\u0000${message}`, { message, path: [...path] });
  }

  merge(other: ValidationResult, prefix: JsonPath = []): void {
    for (const e of other.errors) this.fail(e.message, [...prefix, ...e.path]);
  }

  /** Errors ordered by path id, then message (OSBuild sorts by path id). */
  get errors(): ValidationError[] {
    return [...this.#errors.values()].sort((a, b) => {
      const x = pathId(a.path);
      const y = pathId(b.path);
      if (x !== y) return x < y ? -1 : 1;
      return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
    });
  }

  /** OSBuild's `ValidationResult.as_dict()`: `{}` when valid. */
  toJSON(): ValidationErrorDocument | Record<string, never> {
    if (this.valid) return {};
    return {
      type: VALIDATION_ERROR_TYPE,
      title: VALIDATION_ERROR_TITLE,
      success: false,
      errors: this.errors,
    };
  }
}

/** A compiled JSON Schema (draft-04) whose `validate` returns a `ValidationResult`. */
export class Schema {
  readonly #validate: ValidateFunction;

  constructor(schema: object) {
    this.#validate = ajv.compile(withPythonIntegers(schema) as object);
  }

  validate(data: unknown): ValidationResult {
    const result = new ValidationResult();
    if (this.#validate(data)) return result;
    for (const e of toPythonErrors(this.#validate.errors ?? [], data)) result.fail(e.message, e.path);
    return result;
  }
}

/** Checks that `schema` itself is a usable draft-04 schema; the message says why not. */
export function checkSchema(schema: unknown): string | undefined {
  try {
    if (typeof schema !== 'object' || schema === null) return 'a schema must be an object';
    ajv.compile(schema);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const ajv = new AjvDraft04({
  allErrors: true,
  verbose: true,
  strict: false,
  validateSchema: true,
  addUsedSchema: false,
  // Patterns are Python regular expressions; without the u flag JavaScript accepts the same
  // redundant escapes Python does (`\_` in org.osbuild.kickstart's schema).
  unicodeRegExp: false,
});

/**
 * Draft-04 `integer` as Python's jsonschema checks it: a number written with a fraction or an
 * exponent (`1.0`, `1e2`, `1e400`) is a Python float and never an integer, where Ajv only looks at
 * the value. Every schema gets a `pyInteger` keyword beside a `type` that allows integers but not
 * numbers; it fails for numbers that `parseJson` recorded with a float form.
 */
ajv.addKeyword({
  keyword: 'pyInteger',
  schemaType: 'array',
  validate: (_types: string[], data: unknown, _parent?: unknown, cxt?: DataValidationCxt) => {
    if (typeof data !== 'number' || !cxt || typeof cxt.parentData !== 'object') return true;
    const form = numberFormOf(cxt.parentData, cxt.parentDataProperty);
    return form === undefined || /^-?[0-9]+$/.test(form);
  },
});

const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);
const SUBSCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'items']);
const SUBSCHEMAS = new Set(['additionalProperties', 'additionalItems', 'items', 'not']);

function withPythonIntegers(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const entries = Object.entries(schema).map(([k, v]): [string, unknown] => {
    if (SUBSCHEMA_MAPS.has(k) && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      return [k, Object.fromEntries(Object.entries(v).map(([n, s]) => [n, withPythonIntegers(s)]))];
    }
    if (SUBSCHEMA_LISTS.has(k) && Array.isArray(v)) return [k, v.map(withPythonIntegers)];
    return [k, SUBSCHEMAS.has(k) ? withPythonIntegers(v) : v];
  });
  const type = (schema as { type?: unknown }).type;
  const types = typeof type === 'string' ? [type] : Array.isArray(type) ? type : [];
  if (types.includes('integer') && !types.includes('number')) entries.push(['pyInteger', types]);
  return Object.fromEntries(entries);
}

/** The value at a JSON pointer, its path, and the Python form recorded for it when it is a number. */
function resolvePointer(data: unknown, pointer: string): { value: unknown; path: JsonPath; form?: string } {
  const path: JsonPath = [];
  let value = data;
  let form: string | undefined;
  if (pointer === '') return { value, path };
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    form = typeof value === 'object' && value !== null ? numberFormOf(value, seg) : undefined;
    if (Array.isArray(value)) {
      const idx = Number(seg);
      path.push(idx);
      value = value[idx];
    } else {
      path.push(seg);
      value = (value as Record<string, unknown> | undefined)?.[seg];
    }
  }
  return { value, path, form };
}

const COMBINATORS = new Set(['oneOf', 'anyOf', 'not']);

/**
 * Ajv's errors rewritten as Python's jsonschema reports them: one error for a failed `oneOf`/`anyOf`
 * (without the errors of its branches), and extra properties of one object listed in one message.
 */
function toPythonErrors(errors: ErrorObject[], data: unknown): ValidationError[] {
  const failedCombinators = errors.filter((e) => COMBINATORS.has(e.keyword)).map((e) => `${e.schemaPath}/`);
  const kept = errors.filter((e) => !failedCombinators.some((prefix) => e.schemaPath.startsWith(prefix)));
  const out: ValidationError[] = [];
  const extras = new Map<string, { path: JsonPath; names: string[]; patterns: string[] | undefined }>();
  for (const e of kept) {
    const { value, path, form } = resolvePointer(data, e.instancePath);
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') {
      const key = `${e.instancePath}\u0000${e.schemaPath}`;
      const entry = extras.get(key) ?? { path, names: [], patterns: patternsOf(e) };
      entry.names.push(String(params.additionalProperty));
      extras.set(key, entry);
      continue;
    }
    out.push({ message: pythonMessage(e, pyRepr(value, form)), path });
  }
  for (const { path, names, patterns } of extras.values()) {
    // Python's jsonschema lists the unexpected names sorted.
    const quoted = [...names]
      .sort(compareCodePoints)
      .map((n) => pyRepr(n))
      .join(', ');
    let message: string;
    if (patterns && patterns.length > 0) {
      const sorted = [...names].sort().map((n) => pyRepr(n));
      const verb = names.length === 1 ? 'does' : 'do';
      message = `${sorted.join(', ')} ${verb} not match any of the regexes: ${patterns.map((p) => pyRepr(p)).join(', ')}`;
    } else {
      message = `Additional properties are not allowed (${quoted} ${names.length === 1 ? 'was' : 'were'} unexpected)`;
    }
    out.push({ message, path });
  }
  return out;
}

function patternsOf(e: ErrorObject): string[] | undefined {
  const parent = e.parentSchema as { patternProperties?: Record<string, unknown> } | undefined;
  return parent?.patternProperties ? Object.keys(parent.patternProperties) : undefined;
}

function pythonMessage(e: ErrorObject, v: string): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'pyInteger':
      return `${v} is not of type ${(e.schema as string[]).map((t) => pyRepr(t)).join(', ')}`;
    case 'required':
      return `${pyRepr(params.missingProperty)} is a required property`;
    case 'type': {
      const types = String(params.type)
        .split(',')
        .map((t) => pyRepr(t))
        .join(', ');
      return `${v} is not of type ${types}`;
    }
    case 'enum':
      return `${v} is not one of ${pyRepr(params.allowedValues)}`;
    case 'oneOf':
      return params.passingSchemas
        ? `${v} is valid under each of the given schemas`
        : `${v} is not valid under any of the given schemas`;
    case 'anyOf':
      return `${v} is not valid under any of the given schemas`;
    case 'not': {
      // The schema as written, without the keyword `withPythonIntegers` added.
      const schema: unknown = JSON.parse(
        JSON.stringify(e.schema, (k, x) => (k === 'pyInteger' ? undefined : x)),
      );
      return `${v} should not be valid under ${pyRepr(schema)}`;
    }
    case 'pattern':
      return `${v} does not match ${pyRepr(params.pattern)}`;
    case 'minLength':
    case 'minItems':
      return `${v} is too short`;
    case 'maxLength':
    case 'maxItems':
      return `${v} is too long`;
    case 'minimum':
      return String(params.comparison) === '>'
        ? `${v} is less than or equal to the minimum of ${pyRepr(params.limit)}`
        : `${v} is less than the minimum of ${pyRepr(params.limit)}`;
    case 'maximum':
      return String(params.comparison) === '<'
        ? `${v} is greater than or equal to the maximum of ${pyRepr(params.limit)}`
        : `${v} is greater than the maximum of ${pyRepr(params.limit)}`;
    case 'multipleOf':
      return `${v} is not a multiple of ${pyRepr(params.multipleOf)}`;
    case 'uniqueItems':
      return `${v} has non-unique elements`;
    case 'minProperties':
      return `${v} does not have enough properties`;
    case 'maxProperties':
      return `${v} has too many properties`;
    case 'dependencies':
      return `${pyRepr(params.missingProperty)} is a dependency of ${pyRepr(params.property)}`;
    case 'format':
      return `${v} is not a ${pyRepr(params.format)}`;
    default:
      return `${v}: ${e.message ?? 'is not valid'}`;
  }
}
