import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../command.ts';
import {
  parseCacheSize,
  parseCount,
  parseListen,
  parseSeconds,
  parseSize,
  parseSourceDirs,
} from './options.ts';

test('--listen takes HOST:PORT, [IPV6]:PORT, :PORT and none', () => {
  assert.deepEqual(parseListen('127.0.0.1:8700'), { host: '127.0.0.1', port: 8700 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':9000'), { host: '0.0.0.0', port: 9000 });
  assert.deepEqual(parseListen('localhost:80'), { host: 'localhost', port: 80 });
  assert.equal(parseListen('none'), null);
  for (const bad of ['8700', 'host:', 'host:70000', '::1:80', 'a:b']) {
    assert.throws(() => parseListen(bad), UsageError, bad);
  }
});

test('--workers takes 0 to 64', () => {
  assert.equal(parseCount('workers', '0'), 0);
  assert.equal(parseCount('workers', '2'), 2);
  for (const bad of ['-1', '1.5', 'two', '65']) assert.throws(() => parseCount('workers', bad), UsageError);
});

test('--plan-wait takes whole seconds from 0 to 3600', () => {
  assert.equal(parseSeconds('plan-wait', '0'), 0);
  assert.equal(parseSeconds('plan-wait', '600'), 600);
  for (const bad of ['-1', '1.5', 'ten', '3601', '']) {
    assert.throws(() => parseSeconds('plan-wait', bad), UsageError, bad);
  }
});

test('--max-image-size takes bytes or a size with a unit, above 0', () => {
  assert.equal(parseSize('max-image-size', '1 TiB'), 1024 ** 4);
  assert.equal(parseSize('max-image-size', '500GB'), 500e9);
  assert.equal(parseSize('max-image-size', '4096'), 4096);
  for (const bad of ['0', '-1', '1.5 GiB', 'true', '1e12', '2 PiB', '']) {
    assert.throws(() => parseSize('max-image-size', bad), UsageError, bad);
  }
});

test("--cache-max-size takes OSBuild's sizes, 0 (cache nothing) and unlimited", () => {
  assert.equal(parseCacheSize('cache-max-size', '20 GiB'), 20 * 1024 ** 3);
  assert.equal(parseCacheSize('cache-max-size', '0'), 0);
  assert.equal(parseCacheSize('cache-max-size', 'unlimited'), 'unlimited');
  for (const bad of ['-1', '1.5 GiB', '20 GiBs', 'none', '']) {
    assert.throws(
      () => parseCacheSize('cache-max-size', bad),
      /^UsageError: --cache-max-size: invalid size value/,
      bad,
    );
  }
});

test('--source-dir takes existing absolute directories, made canonical', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-source-dirs-'));
  try {
    symlinkSync(dir, join(dir, 'link'));
    writeFileSync(join(dir, 'file'), '');
    assert.deepEqual(parseSourceDirs([dir, join(dir, 'link')]), [dir, dir]);
    for (const bad of [join(dir, 'missing'), join(dir, 'file'), 'relative']) {
      assert.throws(() => parseSourceDirs([bad]), UsageError, bad);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});
