/**
 * Whether this process may use the deployment's Redis, asked once before BullMQ connects: BullMQ
 * and ioredis retry a refused password or an unknown TLS certificate forever, each attempt one more
 * error event, so a wrong setting would hang start-up and fill the log. A refusal that no retry can
 * mend (NOAUTH, WRONGPASS, NOPERM, TLS verification) is a QueueError with a clear message; a server
 * that does not answer yet is left to BullMQ's retries, as before.
 *
 * ioredis puts the command that failed on its errors, and for AUTH and HELLO that is the password
 * in clear: `redactRedisError` blanks it before an error reaches a log.
 */
import { connect as tlsConnect } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { QueueError, QueueErrorCode } from './errors.ts';

/** Where `options` point, for messages: host:port or the socket path, never the password. */
export function redisWhere(options: RedisOptions): string {
  if (options.path) return options.path;
  const host = options.host ?? 'localhost';
  const user = options.username ? `${options.username}@` : '';
  return `${options.tls ? 'rediss' : 'redis'}://${user}${host.includes(':') ? `[${host}]` : host}:${options.port ?? 6379}`;
}

/** Blanks the credentials ioredis attaches to an error of AUTH or HELLO; returns the same error. */
export function redactRedisError<E>(err: E): E {
  const command = (err as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (command && Array.isArray(command.args)) {
    const name = String(command.name).toLowerCase();
    if (name === 'auth' || name === 'hello' || name === 'acl' || name === 'migrate') {
      command.args = command.args.map(() => '***');
    }
  }
  return err;
}

/** TLS failures that mean the settings are wrong, not that the server is away. */
function isTlsError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)
  );
}

/** The QueueError for a refusal no retry mends, or undefined (not answering, which may pass). */
export function accessError(err: unknown, where: string): QueueError | undefined {
  const e = err as NodeJS.ErrnoException;
  const message = String(e?.message ?? err);
  if (/^NOAUTH\b/.test(message)) {
    return new QueueError(
      QueueErrorCode.REDIS_AUTH,
      `Redis at ${where} wants a password: give it in the URL (redis://:PASSWORD@host:port, or redis://USER:PASSWORD@host:port for an ACL user)`,
    );
  }
  if (/^WRONGPASS\b/.test(message)) {
    return new QueueError(
      QueueErrorCode.REDIS_AUTH,
      `Redis at ${where} refused the user name or password (${message})`,
    );
  }
  if (/^NOPERM\b/.test(message)) {
    return new QueueError(
      QueueErrorCode.REDIS_AUTH,
      `Redis at ${where} does not let this user do what the queue needs (${message}); see the ACL rules of packages/queue/src/acl.ts`,
    );
  }
  if (isTlsError(e)) {
    return new QueueError(
      QueueErrorCode.REDIS_TLS,
      `TLS with Redis at ${where} failed: ${message} [${e.code}] (the CA of its certificate: --redis-ca; a client certificate: --redis-cert and --redis-key)`,
    );
  }
  return undefined;
}

/**
 * The TLS handshake alone, then one PING, on a socket of our own: a server that wants a client
 * certificate refuses a client without one only after the handshake (TLS 1.3), with an alert
 * that ioredis, already writing, sees as a bare ECONNRESET. Resolves with the error, if any.
 */
function probeTls(options: RedisOptions, timeoutMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      ...(typeof options.tls === 'object' ? options.tls : {}),
      host: options.host ?? 'localhost',
      port: options.port ?? 6379,
    });
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(err);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.once('secureConnect', () => socket.write('PING\r\n'));
    socket.once('data', () => done()); // +PONG or -NOAUTH: TLS itself went well
    socket.on('error', (err) => done(err)); // every error: a late one must not go unheard
    socket.once('close', () => done());
  });
}

/**
 * Connects once to Redis with `options` and runs PING and INFO (BullMQ reads the server's version
 * and memory policy with it). Throws a QueueError (FORGE_ERR_REDIS_AUTH, FORGE_ERR_REDIS_TLS) for a
 * refusal; resolves `'ok'`, or `'unreachable'` when nothing answered within `timeoutMs`.
 */
export async function checkRedisAccess(
  options: RedisOptions,
  timeoutMs = 5000,
): Promise<'ok' | 'unreachable'> {
  const where = redisWhere(options);
  if (options.tls && !options.path) {
    const failed = await probeTls(options, timeoutMs);
    const refused = failed && accessError(failed, where);
    if (refused) throw refused;
  }
  const client = new Redis({
    ...options,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  let first: unknown;
  client.on('error', (err) => {
    first ??= redactRedisError(err);
  });
  try {
    await client.connect();
    await client.ping();
    await client.info('server');
    return 'ok';
  } catch (err) {
    const refused = accessError(first ?? err, where) ?? accessError(err, where);
    if (refused) throw refused;
    return 'unreachable';
  } finally {
    client.disconnect();
  }
}
