/**
 * Test helpers for code that needs a real Redis: `startRedis()` runs a private `redis-server` on a
 * unix socket in a temporary directory, without persistence, and stops it (and removes the
 * directory) on `stop()` or `await using`. Each test should still use its own queue name
 * (`randomQueueName()`), as BullMQ's own tests do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RedisOptions } from 'ioredis';
import { redisAnswers } from './options.ts';

export interface TestRedis extends AsyncDisposable {
  /** Path of the unix socket. */
  socket: string;
  /** ioredis options that reach this server (BullMQ's `connection` accepts them too). */
  options: RedisOptions;
  /** `unix://…` URL of the server. */
  url: string;
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
  let child: ChildProcess;
  try {
    child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const exited = once(child, 'exit');
  const spawnError = once(child, 'error').then(([e]) => e as Error);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const options: RedisOptions = { path: socket, maxRetriesPerRequest: null };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const failed = await Promise.race([
      spawnError,
      exited.then(() => new Error('redis-server exited')),
      delay(50),
    ]);
    if (failed instanceof Error) {
      await stop();
      throw new Error(`redis-server did not start: ${failed.message}\n${output}`);
    }
    if (await redisAnswers(options)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer on ${socket} within 10 s\n${output}`);
    }
  }
  return { socket, options, url: `unix://${socket}`, stop, [Symbol.asyncDispose]: stop };
}

/** A fresh queue name per test, so tests sharing one server never see each other's jobs. */
export function randomQueueName(): string {
  return `test-${randomUUID()}`;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
