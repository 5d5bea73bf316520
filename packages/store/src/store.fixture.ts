import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh directory for a test's database, removed when the test ends. */
export function tempDb(t: TestContext, name = 'state.sqlite'): string {
  const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

/** A clock that starts at `start` and moves one second each time it is read. */
export function steppingClock(start = '2026-01-02T03:04:05.000Z'): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}
