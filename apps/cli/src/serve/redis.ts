/**
 * The embedded Redis of `forge serve` when no REDIS_URL is given: a private `redis-server` on a unix
 * socket in `<state>/redis`, reachable only by its owner, with its data kept there (append-only
 * file) so queued jobs survive a restart of the service. A server left running by a `forge serve`
 * that was killed (its pid file still names a live redis-server) is stopped first; the data it wrote
 * is read again by the new one.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive, start } from '@debian-forge/engine';
import { redisAnswers } from '@debian-forge/queue';
import type { RedisOptions } from 'ioredis';
import { ServiceError } from './errors.ts';

export interface PrivateRedis {
  socket: string;
  /** `unix://…` URL, what REDIS_URL would say. */
  url: string;
  options: RedisOptions;
  /** The pid of the server, for tests. */
  pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** The pid of a live `redis-server` named by the pid file, or undefined. */
function liveRedisPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    // The process name, not the pid alone: after a reboot the number may belong to anything.
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm.startsWith('redis-server') ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** Stops a redis-server left behind by a killed `forge serve`; returns its pid when there was one. */
export async function stopStaleRedis(dir: string): Promise<number | undefined> {
  const pid = liveRedisPid(join(dir, 'redis.pid'));
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGTERM');
  if (!(await waitFor(() => !pidAlive(pid), STOP_TIMEOUT_MS))) process.kill(pid, 'SIGKILL');
  await waitFor(() => !pidAlive(pid), STOP_TIMEOUT_MS);
  return pid;
}

/** Starts the private Redis of a state directory (in `<stateDir>/redis`). */
export async function startPrivateRedis(stateDir: string): Promise<PrivateRedis> {
  const dir = join(stateDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await stopStaleRedis(dir);
  const socket = join(dir, 'redis.sock');
  if (existsSync(socket) && lstatSync(socket).isSocket()) unlinkSync(socket);
  const argv = [
    'redis-server',
    '--port',
    '0',
    '--unixsocket',
    socket,
    '--unixsocketperm',
    '700',
    '--dir',
    dir,
    '--pidfile',
    join(dir, 'redis.pid'),
    '--appendonly',
    'yes',
    '--save',
    '',
    // BullMQ needs keys never evicted.
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
  ];
  let output = '';
  const started = start(argv, { env: { ...process.env } as Record<string, string> }, (chunk) => {
    output = (output + chunk).slice(-8192);
  });
  const { child } = started;
  let exited = false;
  const done = started.done.finally(() => {
    exited = true;
  });
  // A spawn failure (no redis-server) rejects `done`; it is reported below.
  const failure = done.then(
    () => new Error(`redis-server exited\n${output}`),
    (err: Error) => err,
  );

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await done.catch(() => {});
      clearTimeout(timer);
    }
  };

  const options: RedisOptions = { path: socket, maxRetriesPerRequest: null };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const failed = await Promise.race([
      failure,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (failed instanceof Error) {
      await stop();
      throw new ServiceError(`the private redis-server did not start: ${failed.message.trim()}`);
    }
    if (await redisAnswers(options)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new ServiceError(`the private redis-server did not answer on ${socket} within 10 s\n${output}`);
    }
  }
  return { socket, url: `unix://${socket}`, options, pid: child.pid ?? 0, stop };
}
