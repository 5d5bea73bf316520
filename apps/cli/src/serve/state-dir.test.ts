import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ServiceError } from './errors.ts';
import { claimStateDir, privateFile, socketGroupId } from './state-dir.ts';

const mode = (path: string) => statSync(path).mode & 0o7777;

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

test('claimStateDir: the directory 0700 and its entries without group or other bits; artifacts all through', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-state-dir-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, 'state');
  mkdirSync(join(state, 'artifacts', 'some-uuid'), { recursive: true });
  mkdirSync(join(state, 'store', 'objects'), { recursive: true });
  writeFileSync(join(state, 'artifacts', 'some-uuid', 'disk.qcow2'), 'image');
  writeFileSync(join(state, 'state.sqlite'), '');
  writeFileSync(join(dir, 'elsewhere'), '');
  symlinkSync(join(dir, 'elsewhere'), join(state, 'link'));
  for (const p of [
    state,
    join(state, 'artifacts'),
    join(state, 'artifacts', 'some-uuid'),
    join(state, 'store'),
  ]) {
    chmodSync(p, 0o755);
  }
  chmodSync(join(state, 'store', 'objects'), 0o755);
  for (const p of [join(state, 'artifacts', 'some-uuid', 'disk.qcow2'), join(state, 'state.sqlite')]) {
    chmodSync(p, 0o644);
  }
  chmodSync(join(dir, 'elsewhere'), 0o644);

  const claim = await claimStateDir(state);
  t.after(() => claim.release());
  assert.equal(mode(state), 0o700);
  assert.equal(mode(join(state, 'serve.lock')), 0o600);
  assert.equal(mode(join(state, 'state.sqlite')), 0o600);
  assert.equal(mode(join(state, 'artifacts')), 0o700);
  assert.equal(mode(join(state, 'artifacts', 'some-uuid')), 0o700);
  assert.equal(mode(join(state, 'artifacts', 'some-uuid', 'disk.qcow2')), 0o600);
  assert.equal(mode(join(state, 'store')), 0o700);
  // Only the entry itself outside artifacts/: the object store's trees keep their modes.
  assert.equal(mode(join(state, 'store', 'objects')), 0o755);
  // A symbolic link is not followed.
  assert.equal(mode(join(dir, 'elsewhere')), 0o644);
  assert.equal(mode(privateFile(join(state, 'new.sqlite'))), 0o600);
});

test('socketGroupId: a group by name or number; an unknown one is a ServiceError', () => {
  assert.equal(socketGroupId('0'), 0);
  assert.equal(socketGroupId('root'), 0);
  assert.throws(() => socketGroupId('no-such-group-forge'), {
    name: 'ServiceError',
    message: '--socket-group no-such-group-forge: no such group in /etc/group',
  });
});
