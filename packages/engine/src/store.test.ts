import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ObjectStore, parseSize } from './store.ts';

const root = process.getuid?.() === 0;

describe('object store', () => {
  it("parses OSBuild's sizes", () => {
    assert.equal(parseSize('1024'), 1024);
    assert.equal(parseSize('2 KiB'), 2048);
    assert.equal(parseSize('3GB'), 3e9);
    assert.equal(parseSize('unlimited'), 'unlimited');
    assert.throws(() => parseSize('2 GiBs'), /invalid size value/);
  });

  it('clamps times around and removes work directories holding immutable files (ostree deployments)', {
    skip: !root && 'needs root for chattr +i',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const store = await ObjectStore.open(join(dir, 'store'));
      const obj = store.newObject();
      const deploy = join(obj.tree, 'ostree/deploy/debian/deploy/abc.0');
      mkdirSync(deploy, { recursive: true });
      writeFileSync(join(deploy, 'file'), 'x');
      assert.equal(spawnSync('chattr', ['+i', deploy]).status, 0);
      // Clamping the times to source-epoch leaves the immutable directory as it is (as OSBuild).
      obj.sourceEpoch = 1_000_000_000;
      await obj.clampMtimes();
      assert.equal(statSync(join(deploy, 'file')).mtimeMs, 1_000_000_000_000);
      assert.notEqual(statSync(deploy).mtimeMs, 1_000_000_000_000);
      await store.close();
      assert.ok(!existsSync(obj.path), 'the work directory is gone');
    } finally {
      spawnSync('chattr', ['-R', '-i', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
