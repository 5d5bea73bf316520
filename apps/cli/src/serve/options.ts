/**
 * Command-line values of `forge serve` and `forge worker` that need parsing: the TCP address, the
 * worker count, a number of seconds, a size and a cache bound (which `forge build` and `forge
 * compose` take too), the source directories; and the flags both have for TLS to Redis.
 */
import { realpathSync, statSync } from 'node:fs';
import { parseDataSize } from '@debian-forge/blueprint';
import { type CacheSize, parseSize as parseEngineSize } from '@debian-forge/engine';
import { type Flag, UsageError } from '../command.ts';

export const DEFAULT_LISTEN = '127.0.0.1:8700';

/** `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (all addresses); `none` turns TCP off (null). */
export function parseListen(value: string): { host: string; port: number } | null {
  if (value === 'none') return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new UsageError(`--listen takes HOST:PORT, [IPV6]:PORT, :PORT or none, not '${value}'`);
  }
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { host, port };
}

export function parseCount(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 64) {
    throw new UsageError(`--${flag} takes a whole number from 0 to 64, not '${value}'`);
  }
  return Number(value);
}

/** A whole number of seconds from 0 to `max`. */
export function parseSeconds(flag: string, value: string, max = 3600): number {
  if (!/^\d+$/.test(value) || Number(value) > max) {
    throw new UsageError(`--${flag} takes a whole number of seconds from 0 to ${max}, not '${value}'`);
  }
  return Number(value);
}

/**
 * `--source-dir` values: existing directories, made canonical (symbolic links resolved), since
 * the planner compares blueprints' canonical paths with them.
 */
export function parseSourceDirs(values: string[]): string[] {
  return values.map((value) => {
    let real: string;
    try {
      real = realpathSync(value);
    } catch {
      throw new UsageError(`--source-dir ${value}: no such directory`);
    }
    if (!value.startsWith('/') || !statSync(real).isDirectory())
      throw new UsageError(`--source-dir takes an absolute path of a directory, not '${value}'`);
    return real;
  });
}

/** A size above 0: bytes, or with a unit as blueprints write sizes ("512 GiB", "1TB"). */
export function parseSize(flag: string, value: string): number {
  let bytes: number;
  try {
    bytes = parseDataSize(value);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
  if (bytes === 0) throw new UsageError(`--${flag} must be more than 0`);
  return bytes;
}

/** A cache bound as OSBuild writes it (`20 GiB`, `unlimited`, 0 for none), or a UsageError naming the flag. */
export function parseCacheSize(flag: string, value: string): CacheSize {
  try {
    return parseEngineSize(value);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

/** The TLS files of a `rediss://` Redis, as flags; each defaults to its environment variable. */
export const REDIS_TLS_FLAGS: Record<string, Flag> = {
  'redis-ca': {
    type: 'string',
    metavar: 'FILE',
    help: "with rediss://: the CA of Redis's certificate, PEM (default $FORGE_REDIS_CA, else the system's CAs)",
  },
  'redis-cert': {
    type: 'string',
    metavar: 'FILE',
    help: 'with rediss://: a client certificate, PEM, for a Redis with tls-auth-clients (default $FORGE_REDIS_CERT)',
  },
  'redis-key': {
    type: 'string',
    metavar: 'FILE',
    help: 'the key of --redis-cert, PEM (default $FORGE_REDIS_KEY)',
  },
};

/** The environment variable each of REDIS_TLS_FLAGS stands for. */
export const REDIS_TLS_ENV = {
  'redis-ca': 'FORGE_REDIS_CA',
  'redis-cert': 'FORGE_REDIS_CERT',
  'redis-key': 'FORGE_REDIS_KEY',
} as const;

/** A password on the command line is readable by every user of the machine (ps, /proc). */
export const REDIS_URL_HELP =
  'redis://USER:PASSWORD@HOST:PORT, rediss://… for TLS, unix:///PATH; a password given here shows in ps, the environment ($REDIS_URL) does not';
