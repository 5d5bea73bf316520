import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ServiceError } from './errors.ts';
import { claimStateDir } from './state-dir.ts';

test('claimStateDir: one claim at a time; released, the directory can be claimed again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-state-dir-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, 'state');
  const first = await claimStateDir(state);
  // flock(1) from outside sees the lock as held, as another forge serve would.
  assert.equal(spawnSync('flock', ['--nonblock', first.lock, 'true']).status, 1);
  await assert.rejects(claimStateDir(state), (err: Error) => {
    assert.ok(err instanceof ServiceError);
    assert.equal(err.message, `another forge serve is running on ${state} (it holds ${first.lock})`);
    return true;
  });
  first.release();
  assert.equal(spawnSync('flock', ['--nonblock', first.lock, 'true']).status, 0);
  const again = await claimStateDir(state);
  again.release();
});
