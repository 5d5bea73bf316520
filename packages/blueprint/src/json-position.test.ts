import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonError } from './json-position.ts';

describe('jsonError', () => {
  it('finds nothing wrong with valid JSON', () => {
    for (const t of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"]} ', '"s"', '0']) {
      assert.equal(jsonError(t), undefined, t);
      JSON.parse(t);
    }
  });

  it('points at the first error', () => {
    assert.deepEqual(jsonError('{"a": 1,}'), { offset: 8, reason: 'expected a property name, got "}"' });
    assert.deepEqual(jsonError('{"a" 1}'), { offset: 5, reason: 'expected ":", got "1"' });
    assert.deepEqual(jsonError('[1 2]'), { offset: 3, reason: 'expected "," or "]", got "2"' });
    assert.deepEqual(jsonError('{"a": tru}'), { offset: 9, reason: 'unexpected "}" (expected true)' });
    assert.deepEqual(jsonError('{"a": 01}'), { offset: 7, reason: 'expected "," or "}", got "1"' });
    assert.deepEqual(jsonError('{"a": "x\n"}'), { offset: 8, reason: 'control character in string' });
    assert.deepEqual(jsonError('{"a": "\\u12g4"}'), { offset: 11, reason: 'bad \\u escape' });
    assert.deepEqual(jsonError('{"a": "x'), { offset: 8, reason: 'unterminated string' });
    assert.deepEqual(jsonError('{} x'), { offset: 3, reason: 'unexpected "x" after the JSON value' });
    assert.deepEqual(jsonError(''), { offset: 0, reason: 'expected a value, got end of input' });
  });
});
