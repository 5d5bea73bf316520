import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_PRIORITY,
  fromBullPriority,
  MAX_PRIORITY,
  MIN_PRIORITY,
  toBullPriority,
} from './priority.ts';

test('a higher Forge priority is a lower BullMQ priority, never 0', () => {
  assert.equal(toBullPriority(MAX_PRIORITY), 1);
  assert.equal(toBullPriority(MIN_PRIORITY), MAX_PRIORITY + 1);
  assert.ok(toBullPriority(900) < toBullPriority(DEFAULT_PRIORITY));
  assert.ok(toBullPriority(DEFAULT_PRIORITY) < toBullPriority(100));
  for (const p of [0, 1, 500, 999, 1000]) assert.equal(fromBullPriority(toBullPriority(p)), p);
});

test('priorities outside 0..1000 or not integers are refused', () => {
  for (const p of [-1, 1001, 1.5, Number.NaN]) assert.throws(() => toBullPriority(p), RangeError);
  assert.throws(() => fromBullPriority(0), RangeError);
});
