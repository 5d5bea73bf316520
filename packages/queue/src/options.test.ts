import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { redactRedisError, redisWhere } from './access.ts';
import { QueueErrorCode } from './errors.ts';
import { maskRedisUrl, redisOptionsFromUrl } from './options.ts';

test('a Redis URL keeps user, password (percent-decoded), database and TLS', () => {
  assert.deepEqual(redisOptionsFromUrl('redis://forge-api:p%40ss%2Fw0rd@redis.invalid:6380/3'), {
    host: 'redis.invalid',
    port: 6380,
    username: 'forge-api',
    password: 'p@ss/w0rd',
    db: 3,
  });
  assert.deepEqual(redisOptionsFromUrl('redis://:secret@[::1]'), {
    host: '::1',
    port: 6379,
    password: 'secret',
  });
  assert.deepEqual(redisOptionsFromUrl('rediss://redis.invalid'), {
    host: 'redis.invalid',
    port: 6379,
    tls: {},
  });
  assert.deepEqual(redisOptionsFromUrl('unix:///run/redis.sock?db=2'), { path: '/run/redis.sock', db: 2 });
  assert.deepEqual(redisOptionsFromUrl('/run/redis.sock'), { path: '/run/redis.sock' });
});

test('TLS files are read for rediss:// and refused elsewhere; errors name the file, never the password', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-redis-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, name), `${name}\n`);
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  const o = redisOptionsFromUrl('rediss://u:pw@redis.invalid:6390', files);
  assert.deepEqual(Object.fromEntries(Object.entries(o.tls ?? {}).map(([k, v]) => [k, String(v)])), {
    ca: 'ca.pem\n',
    cert: 'cert.pem\n',
    key: 'key.pem\n',
  });

  const refused = (url: string, tls: object, pattern: RegExp) =>
    assert.throws(
      () => redisOptionsFromUrl(url, tls),
      (err: { code?: string; message: string }) =>
        err.code === QueueErrorCode.REDIS_CONFIG &&
        pattern.test(err.message) &&
        !err.message.includes('hunter2'),
    );
  refused(
    'redis://:hunter2@redis.invalid',
    { ca: files.ca },
    /need a rediss:\/\/ URL: redis:\/\/:\*\*\*@redis\.invalid/,
  );
  refused('/run/redis.sock', { ca: files.ca }, /rediss/);
  refused('rediss://:hunter2@redis.invalid', { cert: files.cert }, /needs its key/);
  refused('rediss://:hunter2@redis.invalid', { ca: join(dir, 'nope.pem') }, /ca file .*nope\.pem: ENOENT/);
  refused('http://:hunter2@redis.invalid', {}, /not a Redis URL/);
  refused('redis://:hunter2@redis.invalid/zero', {}, /database must be a number/);
  refused('redis://:hunter2@re dis', {}, /not a URL/);
});

test('what logs may show: masked URLs, no credentials on AUTH and HELLO errors', () => {
  assert.equal(maskRedisUrl('redis://forge-api:secret@redis:6379/1'), 'redis://forge-api:***@redis:6379/1');
  assert.equal(maskRedisUrl('redis://redis:6379'), 'redis://redis:6379');
  assert.equal(maskRedisUrl('redis://:secret@bad host'), 'redis://***@bad host');
  assert.equal(
    redisWhere({ host: 'redis', port: 6380, username: 'w', password: 'secret', tls: {} }),
    'rediss://w@redis:6380',
  );
  const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
    command: { name: 'hello', args: ['3', 'AUTH', 'default', 'secret'] },
  });
  assert.equal(redactRedisError(err), err);
  assert.doesNotMatch(JSON.stringify(err.command), /secret/);
  const other = Object.assign(new Error('x'), { command: { name: 'get', args: ['forge:k'] } });
  assert.deepEqual(redactRedisError(other).command.args, ['forge:k']);
});
