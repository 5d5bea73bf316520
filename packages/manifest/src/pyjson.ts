/**
 * JSON exactly as Python's `json` module reads and writes it.
 *
 * OSBuild's content ids are sha256 sums over `json.dumps(x, sort_keys=True)`, so every byte of that
 * output matters. `JSON.parse` loses what Python keeps: `1.0` and `1` are different for Python (a
 * float and an int), integers beyond 2^53 are exact in Python, and an object's key order is its
 * insertion order even for keys like "10". `parseJson` therefore records, beside the plain values
 * it returns, the Python form of every number whose JavaScript default would print differently, and
 * the key order of objects that JavaScript would reorder. The values stay ordinary JavaScript
 * values, so schema validators and stages see normal data; `pyDumps` consults the records.
 *
 * Records live in WeakMaps keyed by the containing object or array, so they follow a container
 * wherever it is referenced and vanish with it. A container built in JavaScript has no records
 * and prints as its values say: integral numbers as Python ints, others as Python floats.
 */
import { ManifestError, ManifestErrorCode } from './errors.ts';

type Container = Record<string, unknown> | unknown[];

/** Python text of numbers that JavaScript's default would print differently, per container key. */
const numberForms = new WeakMap<object, Map<string, string>>();
/** Insertion order of keys, for objects whose JavaScript enumeration order differs from it. */
const keyOrders = new WeakMap<object, string[]>();

export interface ParseOptions {
  /** Deepest nesting of objects and arrays accepted; Python's recursion limit sits near 1000. */
  maxDepth?: number;
}

/**
 * The deepest nesting of objects and arrays that JSON text may have wherever this project reads it:
 * manifests (Python's own recursion limit sits near 1000, so OSBuild cannot read deeper ones
 * either) and every JSON request body of the API. No blueprint, source or compose request nests
 * beyond a handful of levels.
 */
export const DEFAULT_MAX_DEPTH = 1000;

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`: undefined when not, else what
 * is wrong and where ("nests objects and arrays deeper than 1000 levels (at line 1 column 1001
 * (char 1000))"), for the caller to put its subject in front. It only counts brackets outside
 * strings and needs no valid JSON, so it runs before any parser: JSON.parse itself copes with deep
 * text, but the code that walks what it returns (zod, a null dropper, JSON.stringify) recurses once
 * per level and exhausts the stack at about 10,000 levels.
 */
export function jsonDepthProblem(text: string, maxDepth = DEFAULT_MAX_DEPTH): string | undefined {
  const n = text.length;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string, to the next quote after an even number of backslashes (indexOf is fast).
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return undefined;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        return `nests objects and arrays deeper than ${maxDepth} levels (at ${position(text, i)})`;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
    i++;
  }
  return undefined;
}

const ARRAY_INDEX_KEY = /^(?:0|[1-9][0-9]{0,9})$/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null|NaN|Infinity|-Infinity/y;
/** A backslash or a control character (U+0000 to U+001F): the string needs the careful path. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NEEDS_UNESCAPE = /[\\\u0000-\u001f]/;

interface Frame {
  container: Container;
  isArray: boolean;
  key: string;
  keys: string[] | null;
  reordered: boolean;
}

/** Parses JSON text as Python's `json.loads` does, recording what `pyDumps` needs to print it back. */
export function parseJson(text: string, options: ParseOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];

  const fail = (what: string, at: number): never => {
    throw new ManifestError(ManifestErrorCode.JsonSyntax, `not valid JSON: ${what} at ${position(text, at)}`);
  };
  const skipWs = (at: number): number => {
    let p = at;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    return p;
  };
  const readString = (): string => {
    // i points at the opening quote
    const start = i + 1;
    const end = text.indexOf('"', start);
    if (end === -1) fail('unterminated string', i);
    const raw = text.slice(start, end);
    if (!NEEDS_UNESCAPE.test(raw)) {
      i = end + 1;
      return raw;
    }
    let out = '';
    let p = start;
    for (;;) {
      if (p >= n) fail('unterminated string', i);
      const c = text.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) fail('invalid control character in string', p);
      if (c !== 0x5c) {
        out += text[p];
        p++;
        continue;
      }
      const e = text[p + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(p + 2, p + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\uXXXX escape', p + 1); // at the 'u', as Python
          out += String.fromCharCode(Number.parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          fail('invalid escape', p);
      }
      p += 2;
    }
    i = p + 1;
    return out;
  };
  const readKey = (frame: Frame): void => {
    i = skipWs(i);
    if (text.charCodeAt(i) !== 0x22) fail('expecting property name enclosed in double quotes', i);
    const key = readString();
    i = skipWs(i);
    if (text.charCodeAt(i) !== 0x3a) fail("expecting ':' delimiter", i);
    i++;
    frame.key = key;
  };

  for (;;) {
    // Read one value at i.
    i = skipWs(i);
    if (i >= n) fail('expecting value', i);
    const c = text.charCodeAt(i);
    let value: unknown;
    let pyText: string | undefined;
    if (c === 0x7b || c === 0x5b) {
      // Its own stack, not recursion: the depth is counted here, with no pass of its own.
      if (stack.length >= maxDepth) {
        throw new ManifestError(
          ManifestErrorCode.TooDeep,
          `manifest nests objects and arrays deeper than ${maxDepth} levels (at ${position(text, i)})`,
        );
      }
      const isArray = c === 0x5b;
      const frame: Frame = {
        container: isArray ? [] : {},
        isArray,
        key: '',
        keys: isArray ? null : [],
        reordered: false,
      };
      i = skipWs(i + 1);
      if (text.charCodeAt(i) === (isArray ? 0x5d : 0x7d)) {
        i++;
        value = frame.container;
      } else {
        stack.push(frame);
        if (!isArray) readKey(frame);
        continue;
      }
    } else if (c === 0x22) {
      value = readString();
    } else {
      NUMBER.lastIndex = i;
      const num = NUMBER.exec(text);
      LITERAL.lastIndex = i;
      const lit = num ? null : LITERAL.exec(text);
      if (num) {
        const lexeme = num[0];
        i += lexeme.length;
        value = Number(lexeme);
        pyText = numberFormOfLexeme(lexeme, value as number);
      } else if (lit) {
        i += lit[0].length;
        switch (lit[0]) {
          case 'true':
            value = true;
            break;
          case 'false':
            value = false;
            break;
          case 'null':
            value = null;
            break;
          default:
            value = Number(lit[0]);
            pyText = lit[0];
        }
      } else {
        fail('expecting value', i);
      }
    }

    // Attach the value to its parent, closing every container that ends here.
    for (;;) {
      const frame = stack[stack.length - 1];
      if (!frame) {
        i = skipWs(i);
        if (i < n) fail('extra data', i);
        return value;
      }
      let slot: string;
      if (frame.isArray) {
        const arr = frame.container as unknown[];
        slot = String(arr.length);
        arr.push(value);
      } else {
        const obj = frame.container as Record<string, unknown>;
        slot = frame.key;
        if (!Object.hasOwn(obj, slot)) {
          frame.keys?.push(slot);
          if (ARRAY_INDEX_KEY.test(slot)) frame.reordered = true;
        } else {
          // Python keeps the last value of a repeated key at the key's first position.
          numberForms.get(obj)?.delete(slot);
        }
        if (slot === '__proto__') {
          Object.defineProperty(obj, slot, { value, writable: true, enumerable: true, configurable: true });
        } else {
          obj[slot] = value;
        }
      }
      if (pyText !== undefined) {
        let forms = numberForms.get(frame.container);
        if (!forms) {
          forms = new Map();
          numberForms.set(frame.container, forms);
        }
        forms.set(slot, pyText);
        pyText = undefined;
      }
      i = skipWs(i);
      const d = text.charCodeAt(i);
      if (d === 0x2c) {
        i++;
        if (!frame.isArray) readKey(frame);
        break;
      }
      if (d === (frame.isArray ? 0x5d : 0x7d)) {
        i++;
        stack.pop();
        if (frame.reordered && frame.keys) keyOrders.set(frame.container, frame.keys);
        value = frame.container;
        continue;
      }
      fail(frame.isArray ? "expecting ',' or ']'" : "expecting ',' or '}'", i);
    }
  }
}

/**
 * The Python text of a number lexeme, when JavaScript's default rendering of its value would differ:
 * floats with an integral value (`1.0`, `1e20`, `-0.0`, overflow to inf) and integers beyond 2^53.
 */
function numberFormOfLexeme(lexeme: string, value: number): string | undefined {
  const isFloat = /[.eE]/.test(lexeme);
  if (isFloat) {
    return Number.isInteger(value) || !Number.isFinite(value) ? pyFloatRepr(value) : undefined;
  }
  return Number.isSafeInteger(value) ? undefined : BigInt(lexeme).toString();
}

function position(text: string, at: number): string {
  let line = 1;
  let lineStart = 0;
  for (let p = text.indexOf('\n'); p !== -1 && p < at; p = text.indexOf('\n', p + 1)) {
    line++;
    lineStart = p + 1;
  }
  return `line ${line} column ${at - lineStart + 1} (char ${at})`;
}

/** `repr(float)` of CPython: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', exponent = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const decpt = Number(exponent) + 1;
  if (decpt <= -4 || decpt > 16) {
    const exp = decpt - 1;
    const expText = String(Math.abs(exp)).padStart(2, '0');
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${expText}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

function pyNumber(value: number): string {
  if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
  return pyFloatRepr(value);
}

/** Python's order of `str` keys: by code point, where JavaScript's default compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const len = Math.min(a.length, b.length);
  for (let k = 0; k < len; k++) {
    let x = a.charCodeAt(k);
    let y = b.charCodeAt(k);
    if (x === y) continue;
    // Surrogates (D800-DFFF) encode code points above every BMP unit, E000-FFFF included.
    if (x >= 0xd800) x += x <= 0xdfff ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y <= 0xdfff ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

const ASCII_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A string as `json.dumps` writes it with `ensure_ascii=True`. */
export function pyString(s: string): string {
  if (ASCII_SAFE.test(s)) return `"${s}"`;
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const ch = s[k] as string;
    const code = s.charCodeAt(k);
    if (code >= 0x20 && code <= 0x7e && ch !== '"' && ch !== '\\') out += ch;
    else out += SHORT_ESCAPES[ch] ?? `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

export interface DumpOptions {
  /** `sort_keys=True`: object keys in code point order. */
  sortKeys?: boolean;
}

/** `json.dumps(value, sort_keys=…)` of Python: separators ", " and ": ", ASCII only. */
export function pyDumps(value: unknown, options: DumpOptions = {}): string {
  const parts: string[] = [];
  write(value, undefined, parts, options.sortKeys === true);
  return parts.join('');
}

/** An object's keys in Python's order: insertion order, also for keys like "10" that JavaScript moves. */
export function pyKeys(obj: object): string[] {
  return keyOrders.get(obj) ?? Object.keys(obj);
}

/** The Python JSON text recorded for the number at `container[key]` (`1.0`, `1e+20`, …), if any. */
export function numberFormOf(container: object, key: string | number): string | undefined {
  return numberForms.get(container)?.get(String(key));
}

/** Like `pyDumps(container[key])`, but honouring the recorded Python form of a number there. */
export function pyDumpsMember(container: object, key: string | number, options: DumpOptions = {}): string {
  const parts: string[] = [];
  const value = (container as Record<string, unknown>)[key];
  write(value, numberForms.get(container)?.get(String(key)), parts, options.sortKeys === true);
  return parts.join('');
}

function write(value: unknown, form: string | undefined, parts: string[], sortKeys: boolean): void {
  switch (typeof value) {
    case 'string':
      parts.push(pyString(value));
      return;
    case 'number':
      parts.push(form ?? pyNumber(value));
      return;
    case 'bigint':
      parts.push(value.toString());
      return;
    case 'boolean':
      parts.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        parts.push('null');
        return;
      }
      const forms = numberForms.get(value);
      if (Array.isArray(value)) {
        parts.push('[');
        for (let k = 0; k < value.length; k++) {
          if (k > 0) parts.push(', ');
          write(value[k], forms?.get(String(k)), parts, sortKeys);
        }
        parts.push(']');
        return;
      }
      const obj = value as Record<string, unknown>;
      let keys = keyOrders.get(obj) ?? Object.keys(obj);
      if (sortKeys) keys = [...keys].sort(compareCodePoints);
      parts.push('{');
      let first = true;
      for (const key of keys) {
        if (!Object.hasOwn(obj, key)) continue;
        if (!first) parts.push(', ');
        first = false;
        parts.push(pyString(key), ': ');
        write(obj[key], forms?.get(key), parts, sortKeys);
      }
      parts.push('}');
      return;
    }
    default:
      throw new ManifestError(ManifestErrorCode.NotSerialisable, `cannot write a ${typeof value} as JSON`);
  }
}

/** Python's `repr()` of a JSON value, as Python's jsonschema quotes values in its messages. */
export function pyRepr(value: unknown, form?: string): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number')
    return (form ?? pyNumber(value)).replace('Infinity', 'inf').replace('NaN', 'nan');
  if (typeof value === 'string') return pyStrRepr(value);
  if (Array.isArray(value)) {
    const forms = numberForms.get(value);
    return `[${value.map((v, k) => pyRepr(v, forms?.get(String(k)))).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const forms = numberForms.get(obj);
    const keys = keyOrders.get(obj) ?? Object.keys(obj);
    return `{${keys.map((k) => `${pyStrRepr(k)}: ${pyRepr(obj[k], forms?.get(k))}`).join(', ')}}`;
  }
  return String(value);
}

function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * An object with the given entries in the given order, as a Python dict built from them: a repeated
 * key keeps its first position and its last value, and `pyDumps` prints the keys in that order.
 */
export function orderedObject(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  const keys: string[] = [];
  let reordered = false;
  for (const [key, value] of entries) {
    if (!Object.hasOwn(obj, key)) {
      keys.push(key);
      if (ARRAY_INDEX_KEY.test(key)) reordered = true;
    }
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  }
  if (reordered) keyOrders.set(obj, keys);
  return obj;
}

/** Python truthiness of a JSON value: null, false, 0, "", [] and {} are false. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Stores `value` at `container[key]`, printed by `pyDumps` as the Python JSON text `pyText`. */
export function setWithForm(
  container: Record<string, unknown>,
  key: string,
  value: number,
  pyText: string,
): void {
  container[key] = value;
  let forms = numberForms.get(container);
  if (!forms) {
    forms = new Map();
    numberForms.set(container, forms);
  }
  forms.set(key, pyText);
}
