import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { processStartTime } from '@debian-forge/host';
import {
  DEFAULT_CACHE_MAX_SIZE,
  ObjectStore,
  parseSize,
  recordMaximumSize,
  removeDeadWork,
} from './store.ts';

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

  it('commits a finished object by moving it into the cache, keeping it readable in this run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const store = await ObjectStore.open(join(dir, 'store'));
      store.maximumSize = 'unlimited';
      const id = 'a'.repeat(64);
      const obj = store.newObject();
      writeFileSync(join(obj.tree, 'file'), 'content');
      assert.equal(await store.commit(obj, id, true), true);
      assert.ok(!existsSync(obj.path), 'moved, not copied');
      const stored = join(dir, 'store/objects', id);
      assert.equal(readFileSync(join(stored, 'data/tree/file'), 'utf8'), 'content');
      const size = (JSON.parse(readFileSync(join(stored, 'object.info'), 'utf8')) as { size: number }).size;
      assert.ok(size > 0);
      // The run holds it from the start: an eviction (another build's, sharing the store) cannot
      // take it before this run reads it.
      const other = await ObjectStore.open(join(dir, 'store'));
      other.maximumSize = size; // room for one object of this size: committing another evicts

      const filler = other.newObject();
      writeFileSync(join(filler.tree, 'f'), 'x');
      assert.equal(await other.commit(filler, 'b'.repeat(64)), true);
      assert.ok(existsSync(join(stored, 'data/tree/file')), 'not evicted while in use');
      await other.close();
      const read = await store.get(id);
      assert.equal(read?.tree, join(stored, 'data/tree'));
      // The cache holds the id already: nothing moves, the object stays where it is.
      const again = store.newObject();
      assert.equal(await store.commit(again, id, true), false);
      assert.ok(existsSync(again.tree));
      await store.close();
      assert.deepEqual(readdirSync(join(dir, 'store/stage')), [], 'no work left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exports the files of a floating object by moving them (once), the rest by copying', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const store = await ObjectStore.open(join(dir, 'store'));
      store.maximumSize = 'unlimited';
      const obj = store.newObject();
      writeFileSync(join(obj.tree, 'image'), 'bytes');
      store.setFloating('c'.repeat(64), obj);
      // Without move (the same tree exported twice) it is copied and stays.
      await store.export(obj, join(dir, 'out1'), true, false);
      assert.ok(existsSync(join(obj.tree, 'image')));
      utimesSync(obj.tree, 1_000_000_000, 1_000_000_000);
      await store.export(obj, join(dir, 'out2'), true, true);
      assert.equal(readFileSync(join(dir, 'out2/image'), 'utf8'), 'bytes');
      assert.ok(!existsSync(join(obj.tree, 'image')), 'moved');
      assert.equal(statSync(join(dir, 'out2')).mtimeMs, 1_000_000_000_000, "the tree's times, as cp -a");
      assert.equal(await store.contains('c'.repeat(64)), false, 'gone from this run');
      // A tree with directories (a file system, not an image) is copied.
      const system = store.newObject();
      mkdirSync(join(system.tree, 'etc'));
      store.setFloating('e'.repeat(64), system);
      await store.export(system, join(dir, 'out4'), true, true);
      assert.ok(existsSync(join(dir, 'out4/etc')) && existsSync(join(system.tree, 'etc')));
      const cached = store.newObject();
      writeFileSync(join(cached.tree, 'image'), 'kept');
      await store.commit(cached, 'd'.repeat(64));
      const read = await store.get('d'.repeat(64));
      assert.ok(read);
      await store.export(read, join(dir, 'out3'), true, true);
      assert.equal(readFileSync(join(dir, 'out3/image'), 'utf8'), 'kept');
      assert.ok(existsSync(join(read.tree, 'image')), 'the cache keeps its object');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records the bound an operator gives, and a default only where none is recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const root = join(dir, 'store');
      recordMaximumSize(root, DEFAULT_CACHE_MAX_SIZE, { keep: true });
      const store = await ObjectStore.open(root);
      assert.equal(store.maximumSize, 20 * 1024 ** 3);
      recordMaximumSize(root, 'unlimited');
      recordMaximumSize(root, DEFAULT_CACHE_MAX_SIZE, { keep: true });
      assert.equal(store.maximumSize, 'unlimited');
      assert.deepEqual(JSON.parse(readFileSync(join(root, 'cache.info'), 'utf8')), {
        version: 1,
        'maximum-size': 'unlimited',
      });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps what a build found in the cache from eviction by another build until the build ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const root = join(dir, 'store');
      const commit = async (store: ObjectStore, id: string) => {
        const obj = store.newObject();
        writeFileSync(join(obj.tree, 'f'), id);
        assert.equal(await store.commit(obj, id), true);
      };
      const first = await ObjectStore.open(root);
      first.maximumSize = 'unlimited';
      await commit(first, 'a'.repeat(64));
      await first.close();
      const size = first.cacheSize();
      // A build plans on the object (depsolve asks whether the store has it) and reads it later.
      const planning = await ObjectStore.open(root);
      assert.equal(await planning.contains('a'.repeat(64)), true);
      // Meanwhile another build sharing the store commits with room for one object only.
      const other = await ObjectStore.open(root);
      other.maximumSize = size;
      await commit(other, 'b'.repeat(64));
      const read = await planning.get('a'.repeat(64));
      assert.ok(read, 'still there for the build that planned on it');
      assert.equal(readFileSync(join(read.tree, 'f'), 'utf8'), 'a'.repeat(64));
      await planning.close();
      // Once that build ended, it is the least recently used object, and goes first.
      await commit(other, 'c'.repeat(64));
      assert.equal(await other.isCached('a'.repeat(64)), false);
      await other.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a miss, not an error, for an object evicted while it is being opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const root = join(dir, 'store');
      const writer = await ObjectStore.open(root);
      const reader = await ObjectStore.open(root);
      const ids = Array.from({ length: 16 }, (_, i) => i.toString(16).repeat(64));
      const commit = async (id: string) => {
        const obj = writer.newObject();
        writeFileSync(join(obj.tree, 'f'), id);
        return writer.commit(obj, id);
      };
      writer.maximumSize = 'unlimited';
      await commit(ids[0] as string);
      writer.maximumSize = writer.cacheSize(); // room for one: each commit evicts the one before
      let committing = true;
      const commits = (async () => {
        for (const id of ids.slice(1)) assert.equal(await commit(id), true);
        committing = false;
      })();
      // Reads race the commits and evictions; each is a hit or a miss, never a failed lock.
      const seen = { hit: 0, miss: 0 };
      while (committing) {
        for (const id of ids) seen[(await reader.isCached(id)) ? 'hit' : 'miss']++;
        await new Promise((done) => setImmediate(done));
      }
      await commits;
      assert.ok(seen.hit > 0 && seen.miss > 0, JSON.stringify(seen));
      assert.equal(writer.cacheSize() > 0, true);
      await reader.close();
      await writer.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("removes the work a dead build left in stage/ and tmp/, and nothing of a live one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-store-'));
    try {
      const root = join(dir, 'store');
      const store = await ObjectStore.open(root);
      const live = store.newObject(); // this process's: kept
      writeFileSync(join(live.tree, 'f'), 'live');
      const gone = spawnSync('true').pid; // a pid that ran and exited
      const me = process.pid;
      const start = processStartTime(me) as string;
      const make = (rel: string, bytes: number) => {
        mkdirSync(join(root, rel, 'tree'), { recursive: true });
        writeFileSync(join(root, rel, 'tree', 'data'), Buffer.alloc(bytes, 1));
      };
      make(`stage/${gone}-${start}.uuid-dead`, 300_000);
      make(`tmp/${me}-${Number(start) + 1}.buildroot-tmp-reused`, 200_000); // my pid, another start: a dead build's
      make(`tmp/${gone}.buildroot-tmp-older-form`, 1000);
      make(`tmp/${me}.buildroot-tmp-older-form-alive`, 1000);
      make('tmp/not-a-build', 1000);
      const left = await removeDeadWork(root);
      assert.deepEqual(
        left.removed.sort(),
        [
          `stage/${gone}-${start}.uuid-dead`,
          `tmp/${gone}.buildroot-tmp-older-form`,
          `tmp/${me}-${Number(start) + 1}.buildroot-tmp-reused`,
        ].sort(),
      );
      assert.ok(left.bytes >= 500_000 && left.bytes < 2_000_000, `${left.bytes} bytes`);
      assert.deepEqual(readdirSync(join(root, 'stage')), [live.path.split('/').pop()]);
      assert.deepEqual(readdirSync(join(root, 'tmp')).sort(), [
        `${me}.buildroot-tmp-older-form-alive`,
        'not-a-build',
      ]);
      assert.deepEqual(await removeDeadWork(root), { removed: [], bytes: 0 });
      await store.close();
      assert.deepEqual(readdirSync(join(root, 'stage')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
