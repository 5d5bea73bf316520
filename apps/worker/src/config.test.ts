import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_WORK_DIR, workerOptionsFromEnv } from './config.ts';
import { WorkerErrorCode } from './errors.ts';

test('the environment gives Redis, the API, the state directory and resources; flags win', () => {
  const o = workerOptionsFromEnv({
    REDIS_URL: 'redis://redis.invalid:6379/2',
    FORGE_API_URL: 'http://api.invalid:8700',
    FORGE_API_TOKEN: 'secret',
    FORGE_WORKER_CPUS: '4',
    FORGE_WORKER_JOBS: '2',
    FORGE_WORKER_NAME: '',
  });
  assert.equal(o.redis, 'redis://redis.invalid:6379/2');
  assert.deepEqual(o.api, { url: 'http://api.invalid:8700', token: 'secret' });
  assert.equal(o.stateDir, DEFAULT_WORK_DIR);
  assert.deepEqual(o.resources, { cpus: 4 });
  assert.equal(o.maxJobs, 2);
  assert.equal(o.name, undefined, 'an empty variable is unset');
  assert.equal(o.redisTls, undefined);
  const tls = workerOptionsFromEnv({
    REDIS_URL: 'rediss://forge-worker:pw@redis.invalid',
    FORGE_API_SOCKET: '/s',
    FORGE_REDIS_CA: '/etc/forge/redis-ca.pem',
    FORGE_REDIS_CERT: '/etc/forge/worker.pem',
    FORGE_REDIS_KEY: '/etc/forge/worker.key',
  });
  assert.deepEqual(tls.redisTls, {
    ca: '/etc/forge/redis-ca.pem',
    cert: '/etc/forge/worker.pem',
    key: '/etc/forge/worker.key',
  });

  const flags = workerOptionsFromEnv(
    { REDIS_URL: 'redis://a.invalid', FORGE_API_SOCKET: '/run/forge/api.socket', FORGE_WORK_DIR: '/srv/w' },
    { stateDir: '/srv/other', resources: { diskGiB: 50 }, maxJobs: 3 },
  );
  assert.deepEqual(flags.api, { socket: '/run/forge/api.socket' });
  assert.equal(flags.stateDir, '/srv/other');
  assert.deepEqual(flags.resources, { diskGiB: 50 });
  assert.equal(flags.maxJobs, 3);
});

test('missing or bad settings are FORGE_ERR_CONFIG errors that say which', () => {
  const fails = (env: NodeJS.ProcessEnv, pattern: RegExp) =>
    assert.throws(
      () => workerOptionsFromEnv(env),
      (err: { code?: string; message: string }) =>
        err.code === WorkerErrorCode.CONFIG && pattern.test(err.message),
    );
  fails({ FORGE_API_SOCKET: '/s' }, /REDIS_URL/);
  fails({ REDIS_URL: 'redis://a.invalid' }, /FORGE_API_SOCKET or FORGE_API_URL/);
  fails({ REDIS_URL: 'redis://a.invalid', FORGE_API_URL: 'http://a.invalid' }, /FORGE_API_TOKEN/);
  fails(
    { REDIS_URL: 'redis://a.invalid', FORGE_API_URL: 'ftp://a.invalid', FORGE_API_TOKEN: 't' },
    /FORGE_API_URL/,
  );
  fails(
    { REDIS_URL: 'redis://a.invalid', FORGE_API_SOCKET: '/s', FORGE_WORKER_CPUS: 'many' },
    /FORGE_WORKER_CPUS/,
  );
  fails(
    { REDIS_URL: 'redis://a.invalid', FORGE_API_SOCKET: '/s', FORGE_CACHE_MAX_SIZE: '20 GiBs' },
    /FORGE_CACHE_MAX_SIZE: invalid size value: '20 GiBs'/,
  );
});

test("the store's bound is parsed as OSBuild's --cache-max-size; unset, the worker keeps its default", () => {
  const env = { REDIS_URL: 'redis://a.invalid', FORGE_API_SOCKET: '/s' };
  assert.equal(workerOptionsFromEnv({ ...env, FORGE_CACHE_MAX_SIZE: '2 GiB' }).cacheMaxSize, 2 * 1024 ** 3);
  assert.equal(workerOptionsFromEnv({ ...env, FORGE_CACHE_MAX_SIZE: 'unlimited' }).cacheMaxSize, 'unlimited');
  assert.equal(workerOptionsFromEnv(env).cacheMaxSize, undefined);
});
