/**
 * Who may use Redis, on real redis-servers (7.0 here): a password (`requirepass`), ACL users per
 * role under the rules of acl.ts, and TLS with a CA and client certificates. A refusal is a clear
 * QueueError at once, never an endless retry, and no message or error event shows a password.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis, type RedisOptions } from 'ioredis';
import { redisAclUser } from './acl.ts';
import type { BuildJob } from './contracts.ts';
import { QueueErrorCode } from './errors.ts';
import { redisOptionsFromUrl } from './options.ts';
import { DEFAULT_PRIORITY } from './priority.ts';
import { ForgeQueue } from './queue.ts';
import { randomQueueName, startRedis } from './redis.fixture.ts';
import { ForgeWorker } from './worker.ts';

const RESOURCES = { cpus: 1, memoryMiB: 512, diskGiB: 1 };

function job(composeId: string): BuildJob {
  return {
    type: 'build',
    composeId,
    priority: DEFAULT_PRIORITY,
    resources: RESOURCES,
  };
}

/** Rejects like `promise` with `code` and a message matching `pattern`, within `ms`; returns the message. */
async function refusedWithin(
  promise: Promise<unknown>,
  code: string,
  pattern: RegExp,
  ms = 6000,
): Promise<string> {
  const started = Date.now();
  let message = '';
  await assert.rejects(promise, (err: { code?: string; message: string }) => {
    message = err.message;
    return err.code === code && pattern.test(err.message);
  });
  assert.ok(Date.now() - started < ms, `refused after ${Date.now() - started} ms`);
  return message;
}

/**
 * What the API and a worker do with the queue, each as its own Redis user: a job taken with
 * progress and a log line, a priority changed, a running job cancelled, the worker list and counts.
 */
async function roundTrip(producer: RedisOptions, consumer: RedisOptions): Promise<void> {
  const queueName = randomQueueName();
  const queue = new ForgeQueue({ redis: producer, queueName });
  const errors: Error[] = [];
  queue.on('error', (e: Error) => errors.push(e));
  await queue.ready();
  await queue.superviseStalledJobs({ stalledIntervalMs: 1000, lockDurationMs: 2000 });
  const worker = await ForgeWorker.start({
    redis: consumer,
    queueName,
    resources: { cpus: 2, memoryMiB: 1024, diskGiB: 2 },
    pollIntervalMs: 50,
    cancelPollMs: 50,
    processors: {
      build: async (ctx) => {
        await ctx.progress(1, 2, 'half way');
        await ctx.log(`building ${ctx.payload.composeId}`);
        if (ctx.payload.composeId === 'slow') {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        }
        return { success: true };
      },
    },
  });
  worker.onError((e) => errors.push(e));
  try {
    const first = await queue.add(job('first'));
    assert.deepEqual(await queue.waitForOutcome(first, 10_000), {
      status: 'completed',
      result: { success: true },
    });
    assert.deepEqual(await queue.getLogs(first), ['building first']);
    assert.equal((await queue.listWorkers()).length, 1);

    const slow = await queue.add(job('slow'));
    const deadline = Date.now() + 10_000;
    while ((await queue.getJob(slow))?.status !== 'active' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const queued = await queue.add(job('queued'));
    assert.equal(await queue.setPriority(queued, 900), true);
    assert.equal(await queue.cancel(slow), 'signalled');
    const cancelled = await queue.waitForOutcome(slow, 10_000);
    assert.equal(
      cancelled.status === 'failed' && cancelled.error.code,
      QueueErrorCode.CANCELLED,
      JSON.stringify(cancelled),
    );
    assert.equal((await queue.waitForOutcome(queued, 10_000)).status, 'completed');
    assert.deepEqual(await queue.counts(), { queued: 0, active: 0, completed: 2, failed: 1 });
    assert.deepEqual(errors, [], 'no Redis error on the way');
  } finally {
    await worker.close(true);
    await queue.close();
  }
}

test('requirepass: no password and a wrong one are refused at once with a clear error; the right one works', async (t) => {
  const redis = await startRedis({ requirepass: 'right-password' });
  t.after(() => redis.stop());
  const { password: _, ...anonymous } = redis.options;
  const wrong = { ...anonymous, password: 'wrong-password' };

  const noPassword = new ForgeQueue({ redis: anonymous, queueName: randomQueueName() });
  await refusedWithin(noPassword.ready(), QueueErrorCode.REDIS_AUTH, /wants a password: give it in the URL/);
  await noPassword.close();

  const refused = new ForgeQueue({ redis: wrong, queueName: randomQueueName() });
  const message = await refusedWithin(
    refused.ready(),
    QueueErrorCode.REDIS_AUTH,
    /refused the user name or password \(WRONGPASS/,
  );
  await refused.close();
  assert.doesNotMatch(message, /wrong-password/);

  const processors = { build: async () => ({ success: true }) };
  await refusedWithin(
    ForgeWorker.start({ redis: wrong, queueName: randomQueueName(), resources: RESOURCES, processors }),
    QueueErrorCode.REDIS_AUTH,
    /WRONGPASS/,
  );

  await roundTrip(redis.options, redis.options);
});

test('ACL users per role: the API and a worker run the queue; the default user, other keys and dangerous commands are refused', async (t) => {
  const redis = await startRedis({
    aclUsers: [
      'user default off',
      'user admin on >admin-password ~* &* +@all',
      redisAclUser('forge-api', 'api-password'),
      redisAclUser('forge-worker', 'worker-password'),
    ],
  });
  t.after(() => redis.stop());
  const api = { ...redis.options, username: 'forge-api', password: 'api-password' };
  const worker = { ...redis.options, username: 'forge-worker', password: 'worker-password' };
  await roundTrip(api, worker);

  await refusedWithin(
    new ForgeQueue({ redis: redis.options, queueName: randomQueueName() }).ready(),
    QueueErrorCode.REDIS_AUTH,
    /wants a password/,
  );
  await refusedWithin(
    ForgeWorker.start({
      redis: { ...worker, password: 'api-password' },
      queueName: randomQueueName(),
      resources: RESOURCES,
      processors: { build: async () => ({ success: true }) },
    }),
    QueueErrorCode.REDIS_AUTH,
    /WRONGPASS/,
  );

  // What a worker's user may not do: what could take over the Redis host or touch other data.
  const client = new Redis({ ...worker, maxRetriesPerRequest: 0 });
  t.after(() => client.disconnect());
  const denied: [string, ...string[]][] = [
    ['config', 'set', 'dir', '/etc'],
    ['config', 'get', 'requirepass'],
    ['keys', '*'],
    ['flushall'],
    ['flushdb'],
    ['shutdown'],
    ['acl', 'setuser', 'forge-worker', '+@all'],
    ['client', 'kill', 'type', 'normal'],
    ['replicaof', '127.0.0.1', '1'],
    ['save'],
    ['set', 'other:key', '1'],
    ['get', 'session:1'],
    ['publish', 'news', 'x'],
  ];
  for (const [command, ...args] of denied) {
    await assert.rejects(client.call(command, ...args), /NOPERM/, `${command} ${args.join(' ')}`);
  }
  // Redis 7 refuses MODULE and DEBUG before it asks the ACL (enable-*-command no); refused either way.
  await assert.rejects(client.call('module', 'load', '/tmp/x.so'), /NOPERM|not allowed/);
  await assert.rejects(client.call('debug', 'sleep', '0'), /NOPERM|not allowed/);
  assert.equal(await client.set('forge:jobs:probe', '1'), 'OK');

  // The worker's password rotated under a running worker: its reconnections are refused, and what
  // it reports of that carries no password, old or new.
  const admin = new Redis({ ...redis.options, username: 'admin', password: 'admin-password' });
  t.after(() => admin.disconnect());
  const running = await ForgeWorker.start({
    redis: worker,
    queueName: randomQueueName(),
    resources: RESOURCES,
    pollIntervalMs: 50,
    processors: { build: async () => ({ success: true }) },
  });
  const reported: Error[] = [];
  running.onError((e) => reported.push(e));
  await admin.call('acl', 'setuser', 'forge-worker', 'resetpass', '>rotated-password');
  await admin.call('client', 'kill', 'user', 'forge-worker');
  const until = Date.now() + 10_000;
  while (!reported.some((e) => /WRONGPASS/.test(e.message)) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await running.close(true);
  assert.ok(
    reported.some((e) => /WRONGPASS/.test(e.message)),
    'the refusal is reported',
  );
  for (const e of reported) {
    const logged = JSON.stringify({ ...e, message: e.message, stack: e.stack });
    assert.doesNotMatch(logged, /worker-password|rotated-password/);
  }
});

/** A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, with openssl. */
function makeCertificates(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=forge test CA',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'forge-worker'],
  ] as const) {
    ssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      ...['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
      ...['-out', `${name}.pem`, '-days', '2'],
      ...(name === 'server' ? ['-extfile', 'server.ext'] : []),
    );
  }
  // A second CA that signed nothing here: the server's certificate is unknown to it.
  ssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other',
  );
  const at = (f: string) => join(dir, f);
  return {
    ca: at('ca.pem'),
    other: at('other.pem'),
    server: { cert: at('server.pem'), key: at('server.key') },
    client: { cert: at('client.pem'), key: at('client.key') },
  };
}

function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'openssl is not installed (it makes the test certificates)';
  }
}

test('TLS (rediss://): the CA and a client certificate from files; an unknown CA or no client certificate is refused', {
  skip: opensslMissing(),
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-redis-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = makeCertificates(dir);
  const redis = await startRedis({
    requirepass: 'tls-password',
    tls: { ...certs.server, ca: certs.ca, authClients: true },
  });
  t.after(() => redis.stop());
  const url = (host: string) => `rediss://:tls-password@${host}:${redis.tlsPort}`;
  const good = redisOptionsFromUrl(url('localhost'), { ca: certs.ca, ...certs.client });
  await roundTrip(good, redisOptionsFromUrl(url('127.0.0.1'), { ca: certs.ca, ...certs.client }));

  const queueOf = (o: RedisOptions) => new ForgeQueue({ redis: o, queueName: randomQueueName() });
  const cases: [string, RedisOptions, RegExp][] = [
    ['the system CAs', redisOptionsFromUrl(url('localhost'), certs.client), /certificate/i],
    [
      'another CA',
      redisOptionsFromUrl(url('localhost'), { ca: certs.other, ...certs.client }),
      /certificate/i,
    ],
    [
      'no client certificate',
      redisOptionsFromUrl(url('localhost'), { ca: certs.ca }),
      /certificate required|alert/i,
    ],
  ];
  for (const [what, options, pattern] of cases) {
    const queue = queueOf(options);
    queue.on('error', () => {});
    const message = await refusedWithin(queue.ready(), QueueErrorCode.REDIS_TLS, pattern);
    assert.match(message, /--redis-ca/, what);
    await queue.close();
  }
});
