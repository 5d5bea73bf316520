import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CleanupStack } from './cleanup-stack.ts';

describe('CleanupStack', () => {
  it('runs the clean-ups in reverse order of defer, sync and async alike, each once', async () => {
    const ran: string[] = [];
    const stack = new CleanupStack();
    stack.defer(() => ran.push('first'));
    stack.defer(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      ran.push('second');
    });
    stack.defer(() => ran.push('third'));
    await stack.run();
    await stack.run(); // nothing left to run
    assert.deepEqual(ran, ['third', 'second', 'first']);
  });

  it('runs every clean-up after one fails and throws the error of the last to fail', async () => {
    const ran: string[] = [];
    const stack = new CleanupStack();
    stack.defer(() => ran.push('first'));
    stack.defer(() => {
      ran.push('second');
      throw new Error('second failed');
    });
    stack.defer(async () => {
      ran.push('third');
      throw new Error('third failed');
    });
    await assert.rejects(stack.run(), { message: 'second failed' });
    assert.deepEqual(ran, ['third', 'second', 'first']);
  });

  it('lets the same error out as nested finally blocks, the block failing or not', async () => {
    // Every combination of a failing block and failing clean-ups a, b: the stack in one finally
    // against `try { try { block } finally { b } } finally { a }`.
    const step = (name: string, fails: boolean, ran: string[]) => () => {
      ran.push(name);
      if (fails) throw new Error(`${name} failed`);
    };
    const outcome = async (fn: () => Promise<unknown>) => {
      try {
        return { value: await fn() };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    for (const mask of [0, 1, 2, 3, 4, 5, 6, 7]) {
      const [blockFails, aFails, bFails] = [mask & 1, mask & 2, mask & 4].map(Boolean) as boolean[];
      const nestedRan: string[] = [];
      const nested = await outcome(async () => {
        try {
          try {
            step('block', blockFails as boolean, nestedRan)();
            return 'done';
          } finally {
            step('b', bFails as boolean, nestedRan)();
          }
        } finally {
          step('a', aFails as boolean, nestedRan)();
        }
      });
      const stackRan: string[] = [];
      const stacked = await outcome(async () => {
        const stack = new CleanupStack();
        try {
          stack.defer(step('a', aFails as boolean, stackRan));
          stack.defer(step('b', bFails as boolean, stackRan));
          step('block', blockFails as boolean, stackRan)();
          return 'done';
        } finally {
          await stack.run();
        }
      });
      assert.deepEqual(stacked, nested, `block ${blockFails}, a ${aFails}, b ${bFails}`);
      assert.deepEqual(stackRan, nestedRan);
    }
  });
});
