import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** Where the queue lives: the deployment's Redis, its key prefix and the queue's name. */
export interface QueueLocation {
  /** ioredis options of the deployment's Redis (see `redisOptionsFromUrl`). */
  redis: RedisOptions;
  /** Key prefix of this deployment (BullMQ's `prefix`): several deployments can share one Redis. */
  prefix?: string;
  /** Name of the queue within the prefix; tests use a random one each. */
  queueName?: string;
}

export const DEFAULT_PREFIX = 'forge';
export const DEFAULT_QUEUE_NAME = 'jobs';

/** The longest one Redis command of a producer may take (ioredis `commandTimeout`). */
export const COMMAND_TIMEOUT_MS = 2_000;

/**
 * The wait before each attempt to reconnect: 100 ms more each time, then every second for as long
 * as Redis is away (ioredis' own default tops at 2 s, BullMQ's at 20 s: a private Redis restarted in
 * half a second would then wait for the next attempt far longer than it was away).
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 100, 1_000);
}

export function resolveLocation(loc: QueueLocation): {
  prefix: string;
  queueName: string;
  /** For BullMQ's own connections (Worker, QueueEvents): they wait for Redis to come back. */
  redis: RedisOptions;
  connection: BullRedisOptions;
  /**
   * For calls someone waits for (the API's requests, a worker's look at the queue): refused at once
   * while the connection is down (no offline queue, no retry after a reconnect) and bounded while
   * Redis hangs with it open (commandTimeout). BullMQ's docs ask this of producers ("failing fast
   * when Redis is down"); it would break a worker's blocking commands, which keep `redis`.
   */
  producer: RedisOptions;
} {
  const base: RedisOptions = { retryStrategy: reconnectDelay, ...loc.redis };
  // BullMQ requires maxRetriesPerRequest: null for the connections its workers block on.
  const redis: RedisOptions = { ...base, maxRetriesPerRequest: null };
  return {
    prefix: loc.prefix ?? DEFAULT_PREFIX,
    queueName: loc.queueName ?? DEFAULT_QUEUE_NAME,
    redis,
    // The same options, in BullMQ's own type (it types retryStrategy without ioredis 6's `null`).
    connection: redis as BullRedisOptions,
    producer: {
      ...base,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
    },
  };
}

/** The flag a producer sets to cancel an active job; its worker polls it. */
export function cancelKey(prefix: string, queueName: string, jobId: string): string {
  return `${prefix}:${queueName}:forge-cancel:${jobId}`;
}

/** Where a worker announces itself (resources, load), refreshed with each heartbeat, with a TTL. */
export function workerKey(prefix: string, queueName: string, workerName: string): string {
  return `${prefix}:${queueName}:forge-worker:${workerName}`;
}

/**
 * ioredis options from a URL: `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS), or
 * `unix:///path/to/redis.sock` (also `redis+unix://` and a bare absolute path).
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  if (url.startsWith('/')) return { path: url };
  const u = new URL(url);
  if (u.protocol === 'unix:' || u.protocol === 'redis+unix:') {
    const db = u.searchParams.get('db');
    return { path: decodeURIComponent(u.pathname), ...(db ? { db: Number(db) } : {}) };
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`not a Redis URL: ${url}`);
  }
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Whether a Redis server answers PING at `options` (one attempt, no retries). */
export async function redisAnswers(options: RedisOptions): Promise<boolean> {
  const client = new Redis({
    ...options,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
