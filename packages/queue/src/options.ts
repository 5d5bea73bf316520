import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { QueueError, QueueErrorCode } from './errors.ts';

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
 * Files of a TLS connection to Redis (`rediss://`), as paths: the CA that signed the server's
 * certificate (else the system's CAs), and this client's certificate and key when the server asks
 * for one (`tls-auth-clients yes`).
 */
export interface RedisTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * ioredis options from a URL: `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS, with
 * `tlsFiles`), or `unix:///path/to/redis.sock` (also `redis+unix://` and a bare absolute path).
 * User name and password reach Redis as AUTH (an ACL user, or `requirepass` with no user). Errors
 * are FORGE_ERR_REDIS_CONFIG and never show the password.
 */
export function redisOptionsFromUrl(url: string, tlsFiles: RedisTlsFiles = {}): RedisOptions {
  const bad = (why: string) => new QueueError(QueueErrorCode.REDIS_CONFIG, `${why}: ${maskRedisUrl(url)}`);
  const wantsTls = Object.values(tlsFiles).some((f) => f !== undefined);
  if (url.startsWith('/')) {
    if (wantsTls) throw bad('TLS files need a rediss:// URL, not a unix socket');
    return { path: url };
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL'); // URL's own error carries the whole input, password included
  }
  if (u.protocol === 'unix:' || u.protocol === 'redis+unix:') {
    if (wantsTls) throw bad('TLS files need a rediss:// URL, not a unix socket');
    const db = u.searchParams.get('db');
    return { path: decodeURIComponent(u.pathname), ...(db ? { db: dbNumber(db, bad) } : {}) };
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw bad('not a Redis URL (redis://, rediss://, unix://)');
  }
  if (wantsTls && u.protocol !== 'rediss:') throw bad('TLS files need a rediss:// URL');
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: dbNumber(db, bad) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: tlsOptions(tlsFiles) } : {}),
  };
}

function dbNumber(text: string, bad: (why: string) => QueueError): number {
  if (!/^\d{1,5}$/.test(text)) throw bad(`the database must be a number, not '${text}'`);
  return Number(text);
}

function tlsOptions(files: RedisTlsFiles): ConnectionOptions {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new QueueError(
      QueueErrorCode.REDIS_CONFIG,
      'a client certificate for Redis needs its key, and a key its certificate',
    );
  }
  const read = (what: string, file: string | undefined) => {
    if (file === undefined) return {};
    try {
      return { [what]: readFileSync(file) };
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new QueueError(
        QueueErrorCode.REDIS_CONFIG,
        `cannot read the Redis TLS ${what} file ${file}: ${why}`,
      );
    }
  };
  return { ...read('ca', files.ca), ...read('cert', files.cert), ...read('key', files.key) };
}

/** The URL with its password replaced by `***`, for logs and messages. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
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
