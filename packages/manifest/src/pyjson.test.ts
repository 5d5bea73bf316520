/**
 * JSON as Python's `json` module reads and writes it. Each expected text below is what Python 3.11
 * printed for `json.dumps(json.loads(TEXT), sort_keys=…)`, and each syntax error position is the
 * one Python's `json.JSONDecodeError` gave.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestError, ManifestErrorCode } from './errors.ts';
import { compareCodePoints, jsonDepthProblem, parseJson, pyDumps, pyFloatRepr, pyString } from './pyjson.ts';

const roundTrip = (text: string, sortKeys = true) => pyDumps(parseJson(text), { sortKeys });

describe('numbers', () => {
  // Numbers are kept per container, so each sits in an array: [TEXT] -> [PYTHON].
  const cases: [string, string][] = [
    ['1.0', '1.0'],
    ['1', '1'],
    ['-0.0', '-0.0'],
    ['-0', '0'],
    ['0.0', '0.0'],
    ['1e20', '1e+20'],
    ['1E20', '1e+20'],
    ['1e+20', '1e+20'],
    ['1e-05', '1e-05'],
    ['0.00001', '1e-05'],
    ['0.0001', '0.0001'],
    ['1e16', '1e+16'],
    ['1e15', '1000000000000000.0'],
    ['1.5e300', '1.5e+300'],
    ['1e400', 'Infinity'],
    ['-1e400', '-Infinity'],
    ['1e21', '1e+21'],
    ['0.1', '0.1'],
    ['2.50', '2.5'],
    ['4.93e2', '493.0'],
    ['5e-324', '5e-324'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['123456789.123456789', '123456789.12345679'],
    ['9007199254740993', '9007199254740993'],
    ['-9007199254740993', '-9007199254740993'],
    ['100000000000000000000', '100000000000000000000'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
  ];
  for (const [text, python] of cases) {
    it(`prints ${text} as ${python}`, () => {
      assert.equal(roundTrip(`[${text}]`), `[${python}]`);
      assert.equal(roundTrip(`{"k": ${text}}`), `{"k": ${python}}`);
    });
  }

  it('reads NaN, Infinity and -Infinity, and writes them back', () => {
    const v = parseJson('[NaN, Infinity, -Infinity]') as number[];
    assert.ok(Number.isNaN(v[0]));
    assert.deepEqual(v.slice(1), [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    assert.equal(pyDumps(v), '[NaN, Infinity, -Infinity]');
  });

  it('returns plain JavaScript numbers', () => {
    assert.deepEqual(parseJson('{"a": 1.0, "b": [1e2]}'), { a: 1, b: [100] });
  });

  it('gives the repr of JavaScript numbers as CPython does', () => {
    const reprs: [number, string][] = [
      [1, '1.0'],
      [-0, '-0.0'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [0.1 + 0.2, '0.30000000000000004'],
      [1.5e300, '1.5e+300'],
      [-2.5e-7, '-2.5e-07'],
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ];
    for (const [x, python] of reprs) assert.equal(pyFloatRepr(x), python, String(x));
  });

  it('writes integral JavaScript numbers as ints and bigints exactly', () => {
    assert.equal(
      pyDumps([1, 2.5, 1e21, 12345678901234567890n]),
      '[1, 2.5, 1000000000000000000000, 12345678901234567890]',
    );
  });
});

describe('strings', () => {
  const cases: [string, string][] = [
    [String.raw`"caf\u00e9"`, String.raw`"caf\u00e9"`],
    ['"café ☃ 😀"', String.raw`"caf\u00e9 \u2603 \ud83d\ude00"`],
    [String.raw`"\u0000\u0001\u001f"`, String.raw`"\u0000\u0001\u001f"`],
    [String.raw`"\u007f"`, String.raw`"\u007f"`],
    [String.raw`"\u0080"`, String.raw`"\u0080"`],
    [String.raw`"\b\f\n\r\t"`, String.raw`"\b\f\n\r\t"`],
    [String.raw`"\"\\\/"`, String.raw`"\"\\/"`],
    [String.raw`"\ud800"`, String.raw`"\ud800"`],
    [String.raw`"\udfff"`, String.raw`"\udfff"`],
    [String.raw`"\uffff"`, String.raw`"\uffff"`],
  ];
  for (const [text, python] of cases) {
    it(`prints ${text} as ${python}`, () => {
      assert.equal(roundTrip(`[${text}]`), `[${python}]`);
    });
  }

  it('escapes JavaScript strings as json.dumps with ensure_ascii', () => {
    assert.equal(pyString('a/b'), '"a/b"');
    assert.equal(pyString('é\u007f\u0000'), String.raw`"\u00e9\u007f\u0000"`);
    assert.equal(pyString('\u{1F600}'), String.raw`"\ud83d\ude00"`);
    assert.equal(pyString('tab\there "quoted" back\\slash'), String.raw`"tab\there \"quoted\" back\\slash"`);
  });
});

describe('objects', () => {
  it('keeps the last value of a repeated key at its first position', () => {
    assert.equal(roundTrip('{"b": 1, "a": 2, "b": 3}', false), '{"b": 3, "a": 2}');
    assert.equal(roundTrip('{"b": 1, "a": 2, "b": 3}'), '{"a": 2, "b": 3}');
    assert.equal(roundTrip('{"b": 1.0, "b": 3}', false), '{"b": 3}');
  });

  it('keeps keys like "10" in insertion order when not sorting', () => {
    const text = '{"10": 1, "9": 2, "a": 3, "1": 4}';
    assert.equal(roundTrip(text, false), '{"10": 1, "9": 2, "a": 3, "1": 4}');
    assert.equal(roundTrip(text), '{"1": 4, "10": 1, "9": 2, "a": 3}');
  });

  it('sorts keys by code point: U+E000 and U+FFFF before U+10000', () => {
    const text = String.raw`{"\uffff": 1, "\ud800\udc00": 2, "\ue000": 3, "z": 4}`;
    assert.equal(roundTrip(text), String.raw`{"z": 4, "\ue000": 3, "\uffff": 1, "\ud800\udc00": 2}`);
    assert.equal(roundTrip(text, false), String.raw`{"\uffff": 1, "\ud800\udc00": 2, "\ue000": 3, "z": 4}`);
    const keys = ['\uffff', '\u{10000}', '\ue000', 'z', 'Z', '', 'a', 'ab'];
    assert.deepEqual(keys.sort(compareCodePoints), [
      '',
      'Z',
      'a',
      'ab',
      'z',
      '\ue000',
      '\uffff',
      '\u{10000}',
    ]);
  });

  it('keeps a __proto__ key as data', () => {
    const v = parseJson('{"__proto__": {"x": 1}, "a": 1}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__', 'a']);
    assert.equal(pyDumps(v, { sortKeys: true }), '{"__proto__": {"x": 1}, "a": 1}');
  });

  it('sorts nested objects and prints empty containers and literals', () => {
    assert.equal(
      roundTrip('{"a": {"c": 1, "b": [{"z": 1, "y": 2}]}}'),
      '{"a": {"b": [{"y": 2, "z": 1}], "c": 1}}',
    );
    assert.equal(
      roundTrip('{"e": false, "d": true, "c": null, "b": {}, "a": []}'),
      '{"a": [], "b": {}, "c": null, "d": true, "e": false}',
    );
  });

  it('refuses values JSON cannot hold', () => {
    assert.throws(
      () => pyDumps({ a: undefined }),
      (err: unknown) => err instanceof ManifestError && err.code === ManifestErrorCode.NotSerialisable,
    );
  });
});

describe('syntax errors', () => {
  // [text, message]; each "line L column C (char N)" is where Python's json module points.
  const cases: [string, string][] = [
    ['{"a": 1,}', 'expecting property name enclosed in double quotes at line 1 column 9 (char 8)'],
    ['[1, 2', "expecting ',' or ']' at line 1 column 6 (char 5)"],
    ['{"a" 1}', "expecting ':' delimiter at line 1 column 6 (char 5)"],
    ['{"a": tru}', 'expecting value at line 1 column 7 (char 6)'],
    ['"abc', 'unterminated string at line 1 column 1 (char 0)'],
    [String.raw`{"a": "x\qy"}`, 'invalid escape at line 1 column 9 (char 8)'],
    [String.raw`{"a": "\u12G4"}`, String.raw`invalid \uXXXX escape at line 1 column 9 (char 8)`],
    ['[1] 2', 'extra data at line 1 column 5 (char 4)'],
    ['', 'expecting value at line 1 column 1 (char 0)'],
    ['   ', 'expecting value at line 1 column 4 (char 3)'],
    ['{"a":\n  [1,\n   2,,3]}', 'expecting value at line 3 column 6 (char 17)'],
    ['{"a": "line\nbreak"}', 'invalid control character in string at line 1 column 12 (char 11)'],
    ['[01]', "expecting ',' or ']' at line 1 column 3 (char 2)"],
    ["{'a': 1}", 'expecting property name enclosed in double quotes at line 1 column 2 (char 1)'],
    ['[-NaN]', 'expecting value at line 1 column 2 (char 1)'],
    ['[1.]', "expecting ',' or ']' at line 1 column 3 (char 2)"],
    ['[.5]', 'expecting value at line 1 column 2 (char 1)'],
    ['[+1]', 'expecting value at line 1 column 2 (char 1)'],
  ];
  for (const [text, message] of cases) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseJson(text),
        (err: unknown) =>
          err instanceof ManifestError &&
          err.code === ManifestErrorCode.JsonSyntax &&
          err.message === `not valid JSON: ${message}`,
      );
    });
  }

  it('refuses nesting deeper than the limit, and accepts it up to the limit', () => {
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    assert.equal(pyDumps(parseJson(nested(1000))).length, 2000);
    assert.throws(
      () => parseJson(nested(1001)),
      (err: unknown) => err instanceof ManifestError && err.code === ManifestErrorCode.TooDeep,
    );
    assert.throws(
      () => parseJson(nested(4), { maxDepth: 3 }),
      (err: unknown) =>
        err instanceof ManifestError &&
        err.message ===
          'manifest nests objects and arrays deeper than 3 levels (at line 1 column 4 (char 3))',
    );
  });
});

describe('jsonDepthProblem', () => {
  const nested = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

  it('accepts nesting up to the limit and names the first bracket beyond it', () => {
    assert.equal(jsonDepthProblem(nested(1000)), undefined);
    assert.equal(
      jsonDepthProblem(nested(1001)),
      'nests objects and arrays deeper than 1000 levels (at line 1 column 1001 (char 1000))',
    );
    assert.equal(jsonDepthProblem('{"a":{"b":{"c":1}}}', 3), undefined);
    assert.match(
      jsonDepthProblem('{"a":{"b":{"c":{}}}}', 3) ?? '',
      /deeper than 3 levels \(at line 1 column 16 /,
    );
    assert.match(jsonDepthProblem('[\n [\n  [\n   []]]]', 3) ?? '', /\(at line 4 column 4 \(char 12\)\)/);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    assert.equal(jsonDepthProblem(`["${'['.repeat(5000)}"]`), undefined);
    assert.equal(jsonDepthProblem('["\\"[[["]', 1), undefined);
    assert.equal(jsonDepthProblem('["a\\\\", ["x"]]', 1)?.startsWith('nests'), true);
    assert.equal(jsonDepthProblem('[["\\\\"]]', 2), undefined);
  });

  it('needs no valid JSON: it runs before any parser, on any text', () => {
    assert.equal(jsonDepthProblem(''), undefined);
    assert.equal(jsonDepthProblem('"unterminated [[['), undefined);
    assert.equal(jsonDepthProblem(']]]]'), undefined);
    assert.notEqual(jsonDepthProblem('x'.repeat(10) + '['.repeat(100_000)), undefined);
  });

  it('is what parseJson refuses a deep manifest with', () => {
    assert.throws(
      () => parseJson(nested(1001, '{"a":', '}')),
      (err: unknown) =>
        err instanceof ManifestError &&
        err.code === ManifestErrorCode.TooDeep &&
        err.message === `manifest ${jsonDepthProblem(nested(1001, '{"a":', '}'))}`,
    );
  });
});
