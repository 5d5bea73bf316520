/**
 * Whether Redis answers, as one producer connection sees it, and the bounds of the calls made on it.
 *
 * The connection is down at once when it closes or when a call fails for want of Redis (refused,
 * closed, timed out), and up again when ioredis has it ready or a PING is answered. A PING every
 * `intervalMs` also finds a Redis that hangs with the connection open (stopped, swapping). `down`
 * and `up` are emitted on changes only, so an outage is one event each way however many calls fail
 * meanwhile: whoever logs them writes one line, not one stack trace per failed call or reconnect.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { isRedisUnavailable, QueueError, QueueErrorCode } from './errors.ts';

/** What the API shows of Redis (`/api/status`, the Forge API's health). */
export interface RedisState {
  reachable: boolean;
  /** When it became (un)reachable, ms since the epoch. */
  since: number;
  /** Why it is unreachable. */
  error?: string;
}

export interface RedisHealthEvents {
  down: [state: RedisState];
  up: [state: RedisState, downForMs: number];
}

/** The default pace of the PING that finds a hanging Redis. */
export const HEALTH_INTERVAL_MS = 2_000;

/** How long closing a queue or a worker waits for Redis (when it answers) before it drops the connections. */
export const CLOSE_TIMEOUT_MS = 1_500;

/** System and ioredis errors that mean "no Redis to talk to", not "Redis said no". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
const CONNECTION_MESSAGES =
  /Connection is closed|Stream isn't writeable|Command timed out|max retries per request|connect ETIMEDOUT/i;

/** Whether a failed call failed because Redis could not be reached (as opposed to an answer). */
export function isConnectionError(err: unknown): boolean {
  if (isRedisUnavailable(err)) return true;
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  if (!e || e.name === 'ReplyError') return false;
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) ||
    CONNECTION_MESSAGES.test(String(e.message ?? ''))
  );
}

/** The QueueError a call gets while Redis is unreachable. */
export function redisUnavailable(why: string): QueueError {
  return new QueueError(QueueErrorCode.REDIS_UNAVAILABLE, `Redis is unreachable: ${why}`);
}

export class RedisHealth extends EventEmitter<RedisHealthEvents> {
  private reachable: boolean;
  private since = Date.now();
  private error: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pinging = false;
  private connectedOnce: boolean;

  constructor(
    private readonly client: Redis,
    intervalMs = HEALTH_INTERVAL_MS,
  ) {
    super();
    this.reachable = client.status === 'ready';
    this.connectedOnce = this.reachable;
    if (!this.reachable) this.error = 'not connected yet';
    client.on('ready', this.onReady);
    client.on('close', this.onClose);
    client.on('error', this.onError);
    this.timer = setInterval(() => void this.ping(), intervalMs);
    this.timer.unref();
  }

  state(): RedisState {
    return {
      reachable: this.reachable,
      since: this.since,
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }

  /** Throws FORGE_ERR_REDIS_UNAVAILABLE while Redis is known to be unreachable. */
  assertReachable(): void {
    if (!this.reachable) throw redisUnavailable(this.error ?? 'no answer');
  }

  /**
   * Takes note of a failed call: a connection error marks Redis down (true); any other error is
   * not about reachability (false) and is the caller's to report.
   */
  report(err: unknown): boolean {
    if (!isConnectionError(err)) return false;
    this.markDown(String((err as Error)?.message ?? err).replace(/^Redis is unreachable: /, ''));
    return true;
  }

  /**
   * Runs one call with a deadline: at once FORGE_ERR_REDIS_UNAVAILABLE while Redis is down, the
   * same after `timeoutMs` without an answer (the call goes on unawaited), and connection errors
   * turned into it; other errors pass unchanged.
   */
  async bound<T>(timeoutMs: number, call: () => Promise<T>): Promise<T> {
    this.assertReachable();
    const work = call();
    try {
      // `within` also swallows a late failure of an abandoned call: it is nobody's business.
      if (!(await within(timeoutMs, work))) throw redisUnavailable(`no answer within ${timeoutMs} ms`);
      return await work;
    } catch (err) {
      if (this.report(err)) throw isRedisUnavailable(err) ? err : redisUnavailable((err as Error).message);
      throw err;
    }
  }

  /** Stops watching (before the connection is closed on purpose, which is no outage). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.client.off('ready', this.onReady);
    this.client.off('close', this.onClose);
    // The error listener stays, silent: ioredis prints errors nobody listens to.
    this.stopped = true;
  }

  private stopped = false;
  private readonly onReady = () => this.markUp();
  private readonly onClose = () => this.markDown('the connection to Redis closed');
  private readonly onError = (err: Error) => {
    if (!this.stopped) this.report(err);
  };

  private async ping(): Promise<void> {
    // A connection that is not ready is down already; ioredis marks it up when it is ready again.
    if (this.pinging || this.client.status !== 'ready') return;
    this.pinging = true;
    try {
      await this.client.ping();
      this.markUp();
    } catch (err) {
      this.report(err);
    } finally {
      this.pinging = false;
    }
  }

  private markDown(why: string): void {
    if (!this.reachable) return;
    this.reachable = false;
    this.since = Date.now();
    this.error = why;
    this.emit('down', this.state());
  }

  private markUp(): void {
    if (this.reachable) return;
    const downFor = Date.now() - this.since;
    const recovered = this.connectedOnce; // connecting at start-up is not a recovery
    this.connectedOnce = true;
    this.reachable = true;
    this.since = Date.now();
    this.error = undefined;
    if (recovered) this.emit('up', this.state(), downFor);
  }
}

/** Waits for `work` at most `ms`: false when the time ran out (the work goes on, unawaited). */
export async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}
