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

export function resolveLocation(loc: QueueLocation): {
  prefix: string;
  queueName: string;
  redis: RedisOptions;
  connection: BullRedisOptions;
} {
  // BullMQ requires maxRetriesPerRequest: null for the connections its workers block on.
  const redis: RedisOptions = { ...loc.redis, maxRetriesPerRequest: null };
  return {
    prefix: loc.prefix ?? DEFAULT_PREFIX,
    queueName: loc.queueName ?? DEFAULT_QUEUE_NAME,
    redis,
    // The same options, in BullMQ's own type (it types retryStrategy without ioredis 6's `null`).
    connection: redis as BullRedisOptions,
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
