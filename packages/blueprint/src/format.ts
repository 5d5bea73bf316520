/**
 * Blueprints as text: TOML 1.0 and JSON in, validated; TOML and JSON out, printed the way
 * osbuild-composer prints them (its Go structs' key order; TOML as the BurntSushi encoder writes
 * it with no indentation; JSON as Go's encoder writes it).
 */
import { DEFAULT_MAX_DEPTH, jsonDepthProblem } from '@debian-forge/manifest';
import { parse as parseToml, TomlDate, TomlError } from 'smol-toml';
import { BlueprintError, BlueprintErrorCode, type BlueprintIssue, type JsonPath } from './errors.ts';
import { jsonError } from './json-position.ts';
import { type Blueprint, checkBlueprint } from './schema.ts';

export type BlueprintFormat = 'toml' | 'json';

export interface ParsedBlueprint {
  blueprint: Blueprint;
  /** The format the text was read as (what 'auto' chose). */
  format: BlueprintFormat;
  /**
   * Whether the text gave a non-empty `version`. The schema fills in "0.0.0" when it did not; the
   * push rule (`versionOnPush`) needs to know the difference.
   */
  versionGiven: boolean;
}

/** 'auto': JSON when the first character that is not white space is "{", TOML otherwise. */
export function detectFormat(text: string): BlueprintFormat {
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '{' ? 'json' : 'toml';
}

function syntaxError(
  format: BlueprintFormat,
  reason: string,
  line?: number,
  column?: number,
): BlueprintError {
  const where = line !== undefined ? ` at line ${line}, column ${column ?? 1}` : '';
  return new BlueprintError(
    BlueprintErrorCode.Syntax,
    `${format === 'toml' ? 'TOML' : 'JSON'} syntax error${where}: ${reason}`,
    [{ path: [], message: reason }],
    { line, column },
  );
}

/** Text that nests deeper than DEFAULT_MAX_DEPTH: refused as unreadable, as a syntax error is. */
function tooDeep(format: BlueprintFormat, detail: string): BlueprintError {
  const message = `${format === 'toml' ? 'TOML' : 'JSON'} document ${detail}`;
  return new BlueprintError(BlueprintErrorCode.Syntax, message, [{ path: [], message }]);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] as string).length + 1 };
}

/** An own, enumerable property, even for "__proto__". */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** TOML values as plain JSON-like data: integers as numbers, no floats or dates (no blueprint key takes them). */
function fromToml(value: unknown, path: JsonPath, issues: BlueprintIssue[]): unknown {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      issues.push({ path, message: `integer ${value} is too large` });
      return 0;
    }
    return Number(value);
  }
  if (typeof value === 'number') {
    issues.push({ path, message: `expected an integer or a string, got the TOML float ${value}` });
    return value;
  }
  if (value instanceof TomlDate) {
    issues.push({ path, message: `expected a string, got the TOML date ${value.toISOString()}` });
    return value.toISOString();
  }
  if (typeof value === 'object' && value !== null && path.length >= DEFAULT_MAX_DEPTH) {
    // smol-toml bounds inline tables and arrays only; dotted keys and table headers nest as deep.
    throw tooDeep('toml', `nests tables and arrays deeper than ${DEFAULT_MAX_DEPTH} levels`);
  }
  if (Array.isArray(value)) return value.map((v, i) => fromToml(v, [...path, i], issues));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, fromToml(v, [...path, k], issues));
    return out;
  }
  return value;
}

/** JSON null members are dropped, as Go's decoder leaves such fields unset. */
function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) setOwn(out, k, fromJson(v));
    return out;
  }
  return value;
}

/**
 * Parses TOML or JSON text into a plain document, without checking it is a blueprint. Throws a
 * BlueprintError: code Syntax with `line` and `column` for malformed text and for text that nests
 * deeper than DEFAULT_MAX_DEPTH levels (smol-toml's own limit for TOML, the same number), code
 * Invalid for TOML values no blueprint can hold (floats, dates, huge integers).
 */
export function parseDocument(text: string, format: BlueprintFormat | 'auto' = 'auto'): unknown {
  const fmt = format === 'auto' ? detectFormat(text) : format;
  const source = text.replace(/^\uFEFF/, '');
  if (fmt === 'json') {
    // Before JSON.parse: what walks its result (fromJson, the schema) recurses once per level.
    const depth = jsonDepthProblem(source);
    if (depth !== undefined) throw tooDeep('json', depth);
    let data: unknown;
    try {
      data = JSON.parse(source);
    } catch (e) {
      const found = jsonError(source);
      if (!found) throw e;
      const pos = lineAndColumn(source, found.offset);
      throw syntaxError('json', found.reason, pos.line, pos.column);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw BlueprintError.invalid([{ path: [], message: 'a blueprint must be a JSON object' }]);
    }
    return fromJson(data);
  }
  let table: unknown;
  try {
    table = parseToml(source, {
      integersAsBigInt: true,
      unsafeKeyBehaviour: 'keep',
      maxDepth: DEFAULT_MAX_DEPTH,
    });
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = (e.message.split('\n')[0] as string).replace(/^Invalid TOML document: /, '');
      throw syntaxError('toml', reason, e.line, e.column);
    }
    throw e;
  }
  const issues: BlueprintIssue[] = [];
  const data = fromToml(table, [], issues);
  if (issues.length > 0) throw BlueprintError.invalid(issues);
  return data;
}

/** Parses and validates a blueprint; see ParsedBlueprint. Throws BlueprintError. */
export function parseBlueprintText(text: string, format: BlueprintFormat | 'auto' = 'auto'): ParsedBlueprint {
  const fmt = format === 'auto' ? detectFormat(text) : format;
  const data = parseDocument(text, fmt) as Record<string, unknown>;
  const r = checkBlueprint(data);
  if (!r.ok) throw BlueprintError.invalid(r.issues);
  const v = data.version;
  return { blueprint: r.blueprint, format: fmt, versionGiven: typeof v === 'string' && v !== '' };
}

/** Parses TOML or JSON text ('auto': by its first character) into a validated blueprint. Throws BlueprintError. */
export function parseBlueprint(text: string, format: BlueprintFormat | 'auto' = 'auto'): Blueprint {
  return parseBlueprintText(text, format).blueprint;
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

/** The blueprint as composer serialises it: undefined members gone, an empty `containers` omitted. */
function composerView(bp: Blueprint): Record<string, unknown> {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) setOwn(out, k, clean(x));
      return out;
    }
    return v;
  };
  const view = clean(bp) as Record<string, unknown>;
  if (Array.isArray(view.containers) && view.containers.length === 0) delete view.containers;
  return view;
}

export interface JsonOptions {
  /** Spaces of indentation; 0 (the default) prints one line, as composer does. */
  indent?: number;
  /** Escape <, > and & as \u003c, \u003e, \u0026 like Go's encoder (default true). */
  escapeHtml?: boolean;
}

/** The blueprint as JSON, keys in composer's order, ending with a newline as Go's encoder ends it. */
export function toJson(bp: Blueprint, options: JsonOptions = {}): string {
  let s = JSON.stringify(composerView(bp), null, options.indent ?? 0);
  // Outside strings JSON has none of these characters, so replacing everywhere only touches strings.
  s = s.replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  if (options.escapeHtml ?? true) {
    s = s.replace(/[<>&]/g, (c) => (c === '<' ? '\\u003c' : c === '>' ? '\\u003e' : '\\u0026'));
  }
  return `${s}\n`;
}

function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k);
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isArrayOfTables(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 && v.every(isTable);
}

function tomlInline(v: unknown): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`cannot print ${v} as a TOML integer`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(tomlInline).join(', ')}]`;
  if (isTable(v)) {
    const parts = Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${tomlKey(k)} = ${tomlInline(x)}`);
    return parts.length === 0 ? '{}' : `{${parts.join(', ')}}`;
  }
  throw new Error(`cannot print ${typeof v} in TOML`);
}

/**
 * Writes one table as BurntSushi's encoder does: plain keys first (struct order), then sub-tables
 * and arrays of tables (struct order). A blank line goes before every array-of-tables header and
 * before every top-level table header; nested table headers follow directly.
 */
function writeTable(out: string[], path: string[], table: Record<string, unknown>): void {
  const entries = Object.entries(table).filter(([, v]) => v !== undefined);
  for (const [k, v] of entries) {
    if (!isTable(v) && !isArrayOfTables(v)) out.push(`${tomlKey(k)} = ${tomlInline(v)}`);
  }
  for (const [k, v] of entries) {
    const sub = [...path, k];
    const name = sub.map(tomlKey).join('.');
    if (isTable(v)) {
      if (sub.length === 1 && out.length > 0) out.push('');
      out.push(`[${name}]`);
      writeTable(out, sub, v);
    } else if (isArrayOfTables(v)) {
      for (const element of v) {
        if (out.length > 0) out.push('');
        out.push(`[[${name}]]`);
        writeTable(out, sub, element);
      }
    }
  }
}

/** The blueprint as TOML, the way composer prints it (`composer-cli blueprints show`). */
export function toToml(bp: Blueprint): string {
  const out: string[] = [];
  writeTable(out, [], composerView(bp));
  return `${out.join('\n')}\n`;
}
