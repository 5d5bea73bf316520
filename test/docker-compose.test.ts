/**
 * docker-compose.yml and the Dockerfile, checked for their shape (no Docker daemon is needed, none
 * runs here): the services and what each needs — Redis, the API as `forge serve --workers 0`,
 * privileged workers with the host's /dev that reach the API over HTTP with the token, two by
 * default and scalable (`--scale worker=N`: a state directory per replica) — and every named volume
 * declared. The Dockerfile installs scripts/debian-packages on node:20-bookworm.
 * Redis: every client's URL has a user and a password from .env (required, documented in
 * .env.example, written nowhere), and the Redis service's own command, run here with a real
 * redis-server as Compose would run it, lets those users and nobody else in.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkRedisAccess,
  ForgeQueue,
  ForgeWorker,
  QueueErrorCode,
  redisAclRules,
  redisOptionsFromUrl,
} from '@debian-forge/queue';
import { randomQueueName } from '@debian-forge/queue/testing';
import { parse } from 'yaml';
import { REPO, tempDir } from './engine.fixture.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  privileged?: boolean;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[];
  ports?: string[];
  deploy?: { replicas?: number };
  container_name?: string;
  hostname?: string;
}

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

test('docker-compose.yml: Redis, the API without workers, privileged workers (two, scalable), declared volumes', () => {
  const { services } = compose;
  assert.deepEqual(Object.keys(services).sort(), ['api', 'redis', 'worker']);
  assert.match(services.redis?.image ?? '', /^redis:/);

  const api = services.api as Service;
  assert.ok(api.build, 'the api service builds the image');
  const cmd = api.command ?? [];
  assert.equal(cmd[0], 'serve');
  assert.equal(cmd[cmd.indexOf('--workers') + 1], '0');
  assert.match(cmd[cmd.indexOf('--listen') + 1] ?? '', /^0\.0\.0\.0:8700$/);
  assert.match(
    api.environment?.REDIS_URL ?? '',
    /^redis:\/\/forge-api:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/,
  );
  assert.match(api.environment?.FORGE_API_TOKENS ?? '', /^\$\{FORGE_API_TOKEN/);
  assert.ok(api.depends_on?.includes('redis'));
  assert.ok(api.ports?.some((p) => p.endsWith(':8700')));

  const w = services.worker as Service;
  assert.equal(w.image, api.image, "the worker runs the api's image");
  assert.deepEqual(w.command, ['worker']);
  assert.equal(w.privileged, true, 'the worker is privileged (loop devices, mounts)');
  assert.ok(w.volumes?.includes('/dev:/dev'), "the worker has the host's /dev");
  assert.match(
    w.environment?.REDIS_URL ?? '',
    /^redis:\/\/forge-worker:\$\{REDIS_WORKER_PASSWORD:\?[^}]+\}@redis:6379$/,
  );
  assert.equal(w.environment?.FORGE_API_URL, 'http://api:8700');
  assert.equal(w.environment?.FORGE_API_TOKEN, api.environment?.FORGE_API_TOKENS);
  assert.ok(w.depends_on?.includes('api') && w.depends_on.includes('redis'));
  // Two by default; `--scale worker=N` makes N replicas, which nothing fixed may keep apart: no
  // container or host name (each replica's name is its own container's), no published port, and
  // the state directory an anonymous volume (one per replica), never a named one they would share.
  assert.equal(w.deploy?.replicas, 2);
  assert.equal(w.container_name, undefined);
  assert.equal(w.hostname, undefined);
  assert.equal(w.ports, undefined);
  assert.equal(w.environment?.FORGE_WORKER_NAME, undefined);
  const stateDir = w.environment?.FORGE_WORK_DIR;
  assert.ok(w.volumes?.includes(stateDir as string), `${stateDir} is an anonymous volume`);

  // Every named volume a service mounts is declared at the top.
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes ?? []) {
      const source = v.split(':')[0] ?? '';
      if (source.startsWith('/') || source.startsWith('.')) continue;
      assert.ok(source in compose.volumes, `${name}: volume '${source}' is not declared`);
    }
  }
});

test('Dockerfile: node:20-bookworm, the Debian packages of scripts/debian-packages, set-up, forge as entry point', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  assert.match(text, /^FROM node:20-bookworm$/m);
  assert.match(text, /^COPY scripts\/debian-packages /m);
  assert.match(text, /apt-get install -y --no-install-recommends/);
  assert.match(text, /^RUN bash scripts\/setup\.sh$/m);
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(text)?.[1];
  assert.deepEqual(JSON.parse(entry ?? 'null'), ['node', '/opt/debian-forge/apps/cli/bin/forge.js']);
  // The worker and the API need these at run time; the image gets them from the list.
  const wanted = readFileSync(join(REPO, 'scripts/debian-packages'), 'utf8');
  for (const pkg of ['redis-server', 'bubblewrap', 'qemu-utils']) {
    assert.match(wanted, new RegExp(`^${pkg}$`, 'm'));
  }
});

/** Compose's interpolation of what the file uses: `${VAR:?message}` from `vars` (required), `$$`. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Z_]+):\?[^}]*\}|\$/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    assert.ok(name, `a bare $ that Compose would interpolate: ${text}`);
    const value = vars[name];
    assert.ok(value, `${name} is required`);
    return value;
  });
}

const SECRETS = {
  FORGE_API_TOKEN: 'token-from-env',
  REDIS_PASSWORD: 'api-password-from-env',
  REDIS_WORKER_PASSWORD: 'worker-password-from-env',
};

test('docker-compose.yml: no Redis client without a password, every secret from .env (required, in .env.example), none written in the file', () => {
  const text = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
  const example = readFileSync(join(REPO, '.env.example'), 'utf8');
  const gitignore = readFileSync(join(REPO, '.gitignore'), 'utf8');
  assert.match(gitignore, /^\.env$/m, '.env is never committed');
  const documented = [...example.matchAll(/^([A-Z_]+)=$/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(SECRETS).sort(), '.env.example lists every secret, empty');

  // Every variable the file takes from .env is required and documented.
  const used = [...text.matchAll(/\$\{([A-Z_]+)(:?[?-]?)/g)];
  assert.ok(used.length > 0);
  for (const [whole, name, how] of used) {
    assert.equal(how, ':?', `${whole}: required, so Compose refuses to start without it`);
    assert.ok(documented.includes(name), `${name} is in .env.example`);
  }
  // Every service that talks to Redis does so as a user with a password from .env.
  const clients = Object.entries(compose.services).filter(([, s]) => s.environment?.REDIS_URL);
  assert.deepEqual(clients.map(([n]) => n).sort(), ['api', 'worker']);
  for (const [name, s] of clients) {
    const url = new URL(interpolate(s.environment?.REDIS_URL as string, SECRETS));
    assert.ok(url.username && url.password, `${name}: a user and a password`);
    assert.ok(Object.values(SECRETS).includes(decodeURIComponent(url.password)), `${name}: from .env`);
  }
  // The Redis service reads the passwords from its environment, never from its command.
  const redis = compose.services.redis as Service;
  assert.deepEqual(Object.keys(redis.environment ?? {}).sort(), ['REDIS_PASSWORD', 'REDIS_WORKER_PASSWORD']);
  const script = (redis.command ?? []).join('\n');
  assert.doesNotMatch(script, /requirepass|>\S/, 'no password in clear');
  assert.match(script, /^user default off$/m);
  // One user per role, with packages/queue's ACL rules and the password of its variable.
  const users = [...script.matchAll(/^user (\S+) on #\$\$\(sha "\$\$([A-Z_]+)"\) (.*)$/gm)];
  assert.deepEqual(
    users.map(([, user, password, rules]) => [user, password, rules]),
    [
      ['forge-api', 'REDIS_PASSWORD', redisAclRules()],
      ['forge-worker', 'REDIS_WORKER_PASSWORD', redisAclRules()],
    ],
  );
});

/** The Redis service's command, as Compose would run it, on a unix socket here. */
async function composeRedis(
  dir: string,
): Promise<{ child: ChildProcess; socket: string; log: () => string }> {
  const redis = compose.services.redis as Service;
  const [sh, flag, script, name] = (redis.command ?? []).map((c) => interpolate(c, {}));
  assert.deepEqual([sh, flag, name], ['sh', '-c', 'sh']);
  // The redis image's entry point runs the server as the redis user; here it only runs it.
  writeFileSync(join(dir, 'docker-entrypoint.sh'), '#!/bin/sh\nexec "$@"\n');
  chmodSync(join(dir, 'docker-entrypoint.sh'), 0o755);
  const env: Record<string, string> = { PATH: `${dir}:${process.env.PATH}` };
  for (const [k, v] of Object.entries(redis.environment ?? {})) env[k] = interpolate(v, SECRETS);
  const socket = join(dir, 'redis.sock');
  // After the configuration Compose gives it: no TCP, no data kept, this socket.
  const args = [
    ...'--port 0 --appendonly no --unixsocketperm 700'.split(' '),
    '--save',
    '',
    '--unixsocket',
    socket,
  ];
  const child = spawn(sh as string, [flag as string, script as string, name as string, ...args], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/i.test(log)) {
    assert.ok(child.exitCode === null && Date.now() < deadline, `redis-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, socket, log: () => log };
}

test('docker-compose.yml: its Redis (run here with redis-server 7) lets forge-api and forge-worker in with their passwords and nobody else', async (t) => {
  const dir = tempDir('forge-compose-redis-');
  const { child, socket, log } = await composeRedis(dir.path);
  // In this order: the clients need the server to close cleanly.
  const clients: { close(): Promise<void> }[] = [];
  t.after(async () => {
    for (const c of clients.reverse()) await c.close();
    child.kill('SIGTERM');
    await once(child, 'exit');
    dir.cleanup();
  });
  assert.doesNotMatch(log(), /password-from-env/);
  // What each client is given in the file, pointed at this server.
  const as = (service: string) => ({
    ...redisOptionsFromUrl(interpolate(compose.services[service]?.environment?.REDIS_URL ?? '', SECRETS)),
    host: undefined,
    port: undefined,
    path: socket,
  });
  const queueName = randomQueueName();
  const queue = new ForgeQueue({ redis: as('api'), queueName });
  clients.push(queue);
  await queue.ready();
  const worker = await ForgeWorker.start({
    redis: as('worker'),
    queueName,
    resources: { cpus: 1, memoryMiB: 512, diskGiB: 1 },
    pollIntervalMs: 50,
    processors: { build: async () => ({ success: true }) },
  });
  clients.push({ close: () => worker.close(true) });
  const resources = { cpus: 1, memoryMiB: 512, diskGiB: 1 };
  const jobId = await queue.add({ type: 'build', composeId: 'c1', priority: 500, resources });
  assert.deepEqual(await queue.waitForOutcome(jobId, 10_000), {
    status: 'completed',
    result: { success: true },
  });

  for (const [who, options, pattern] of [
    ['no user', { path: socket }, /wants a password/],
    ['the default user', { path: socket, password: SECRETS.REDIS_PASSWORD }, /WRONGPASS/],
    ['the worker with the API password', { ...as('worker'), password: SECRETS.REDIS_PASSWORD }, /WRONGPASS/],
  ] as const) {
    await assert.rejects(
      checkRedisAccess(options),
      (e: { code?: string; message: string }) =>
        e.code === QueueErrorCode.REDIS_AUTH && pattern.test(e.message),
      who,
    );
  }
});
