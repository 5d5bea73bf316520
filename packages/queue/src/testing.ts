/**
 * Test helpers for code that needs a real Redis: `startRedis()` runs a private `redis-server` on a
 * unix socket in a temporary directory, without persistence, and stops it (and removes the
 * directory) on `stop()` or `await using`. Each test should still use its own queue name
 * (`randomQueueName()`), as BullMQ's own tests do. Tests of Redis going away signal its `pid`
 * (SIGSTOP, SIGKILL) and `restart()` it on the same socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RedisOptions } from 'ioredis';
import type { BuildJob } from './contracts.ts';
import { redisAnswers } from './options.ts';
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
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'forge-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const argv = [
    '--port',
    '0',
    '--unixsocket',
    socket,
    '--unixsocketperm',
    '700',
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  argv.push('--daemonize', 'no', '--dir', dir);
  const options: RedisOptions = { path: socket, maxRetriesPerRequest: null };
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
  const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const exited = once(child, 'exit');
  const spawnError = once(child, 'error').then(([e]) => e as Error);

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
    const failed = await Promise.race([
      spawnError,
      exited.then(() => new Error('redis-server exited')),
      delay(50),
    ]);
    if (failed instanceof Error) {
      await stop('SIGTERM');
      throw new Error(`redis-server did not start: ${failed.message}\n${output}`);
    }
    if (await redisAnswers(options)) break;
    if (Date.now() > deadline) {
      await stop('SIGTERM');
      throw new Error(`redis-server did not answer on ${socket} within 10 s\n${output}`);
    }
  }
  return { child, stop };
}

/** A valid build job of `composeId` (an empty manifest, a small request), with `overrides`. */
export function buildJob(composeId: string, overrides: Partial<BuildJob> = {}): BuildJob {
  return {
    type: 'build',
    composeId,
    manifest: { version: '2', pipelines: [] },
    exports: ['qcow2'],
    imageType: 'qcow2',
    filename: 'disk.qcow2',
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
