import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis } from './redis.fixture.ts';

test('startRedis runs a private redis-server on a unix socket and removes it on stop', async () => {
  const redis = await startRedis();
  const client = new Redis(redis.options);
  try {
    assert.equal(await client.set('k', 'v'), 'OK');
    assert.equal(await client.get('k'), 'v');
    assert.equal(await client.config('GET', 'save').then((r) => (r as string[])[1]), '');
  } finally {
    client.disconnect();
    await redis.stop();
  }
  assert.equal(existsSync(redis.socket), false);
});
