/**
 * Test helpers for code that needs a real Redis: `startRedis()` runs a private `redis-server` on a
 * unix socket in a temporary directory, without persistence, and stops it (and removes the
 * directory) on `stop()` or `await using`. Each test should still use its own queue name
 * (`randomQueueName()`), as BullMQ's own tests do. Tests of Redis going away signal its `pid`
 * (SIGSTOP, SIGKILL) and `restart()` it on the same socket. It can ask for a password
 * (`requirepass`), run under ACL users (`aclUsers`, lines of an ACL file) and listen on TCP, plain
 * or with TLS, as well, and run in a network namespace (`netns`, for tests of several "hosts").
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { redisServerArgv, start } from '@debian-forge/host';
import type { RedisOptions } from 'ioredis';
import { checkRedisAccess } from './access.ts';
import type { BuildJob } from './contracts.ts';
import { QueueError } from './errors.ts';
import { DEFAULT_PRIORITY } from './priority.ts';

export interface TestRedis extends AsyncDisposable {
  /** Path of the unix socket. */
  socket: string;
  /** ioredis options that reach this server (BullMQ's `connection` accepts them too). */
  options: RedisOptions;
  /** `unix://…` URL of the server. */
  url: string;
  /** The pid of the server running now (tests stop or kill it to make Redis go away). */
  readonly pid: number;
  /** Kills the server (SIGKILL) if it runs and starts a new one on the same socket (empty). */
  restart(): Promise<void>;
  /** The plain TCP port (on 127.0.0.1 unless `tcp` named an address), when asked for. */
  port?: number;
  /** The TCP port of TLS on 127.0.0.1, when asked for. */
  tlsPort?: number;
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** The password of the default user; `options` carry it. */
  requirepass?: string;
  /** Lines of an ACL file (`user NAME on #SHA256 RULES`); `options` carry no user. */
  aclUsers?: string[];
  /** A plain TCP port on 127.0.0.1 too (a later `--port` wins over the first `--port 0`), or on
   *  the address and port given (in `netns`, where nothing else listens). */
  tcp?: boolean | { host: string; port: number };
  /** The network namespace (`ip netns` name) to run the server in; the unix socket is reached
   *  from anywhere on the machine, namespaces do not separate file system paths. */
  netns?: string;
  /** TLS on a TCP port of 127.0.0.1 (PEM file paths); the unix socket stays plain. */
  tls?: { cert: string; key: string; ca: string; authClients: boolean };
}

export async function startRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'forge-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const argv = [
    ...(opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []),
    ...redisServerArgv({ socket, dir, appendOnly: false }),
  ];
  if (opts.requirepass !== undefined) argv.push('--requirepass', opts.requirepass);
  if (opts.aclUsers) {
    const file = path.join(dir, 'users.acl');
    await writeFile(file, `${opts.aclUsers.join('\n')}\n`, { mode: 0o600 });
    argv.push('--aclfile', file);
  }
  const bind = typeof opts.tcp === 'object' ? opts.tcp : undefined;
  const port = bind ? bind.port : opts.tcp ? await freePort() : undefined;
  if (port !== undefined) argv.push('--port', String(port));
  let tlsPort: number | undefined;
  if (port !== undefined || opts.tls) argv.push('--bind', bind?.host ?? '127.0.0.1');
  if (opts.tls) {
    tlsPort = await freePort();
    argv.push(
      ...['--tls-port', String(tlsPort)],
      ...['--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key],
      ...['--tls-ca-cert-file', opts.tls.ca, '--tls-auth-clients', opts.tls.authClients ? 'yes' : 'no'],
    );
  }
  const options: RedisOptions = {
    path: socket,
    maxRetriesPerRequest: null,
    ...(opts.requirepass !== undefined ? { password: opts.requirepass } : {}),
  };
  let server: Server;
  try {
    server = await launch(argv, socket, options);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await server.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  return {
    socket,
    options,
    url: `unix://${socket}`,
    ...(port === undefined ? {} : { port }),
    ...(tlsPort === undefined ? {} : { tlsPort }),
    get pid() {
      return server.child.pid ?? 0;
    },
    async restart() {
      await server.stop('SIGKILL');
      server = await launch(argv, socket, options);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

interface Server {
  child: ChildProcess;
  /** Sends `signal` (SIGKILL after 5 s) and waits for the exit; nothing when it has exited. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Starts redis-server with `argv` and waits until it answers on `socket`. */
async function launch(argv: string[], socket: string, options: RedisOptions): Promise<Server> {
  let output = '';
  const { child, done } = start(argv, { env: { ...process.env } as Record<string, string> }, (chunk) => {
    output += chunk;
  });
  const exited = once(child, 'exit');
  // Why it is gone: it exited, or could not be started at all.
  const ended = done.then(
    () => new Error('redis-server exited'),
    (e: Error) => e,
  );

  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      child.kill('SIGCONT'); // a server a test stopped (SIGSTOP) cannot act on SIGTERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    const failed = await Promise.race([ended, delay(50)]);
    if (failed instanceof Error) {
      await stop('SIGTERM');
      throw new Error(`redis-server did not start: ${failed.message}\n${output}`);
    }
    if (await answers(options)) break;
    if (Date.now() > deadline) {
      await stop('SIGTERM');
      throw new Error(`redis-server did not answer on ${socket} within 10 s\n${output}`);
    }
  }
  return { child, stop };
}

/** Whether the server is up: it answers, or refuses who we are (ACL users, default user off). */
async function answers(options: RedisOptions): Promise<boolean> {
  try {
    return (await checkRedisAccess(options, 1000)) === 'ok';
  } catch (err) {
    if (err instanceof QueueError) return true;
    throw err;
  }
}

/** A TCP port free right now on 127.0.0.1 (for redis-server's TLS port, which cannot be 0). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** A valid build job of `composeId` (a small request), with `overrides`. */
export function buildJob(composeId: string, overrides: Partial<BuildJob> = {}): BuildJob {
  return {
    type: 'build',
    composeId,
    priority: DEFAULT_PRIORITY,
    resources: { cpus: 2, memoryMiB: 2048, diskGiB: 10 },
    ...overrides,
  };
}

/** A fresh queue name per test, so tests sharing one server never see each other's jobs. */
export function randomQueueName(): string {
  return `test-${randomUUID()}`;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
