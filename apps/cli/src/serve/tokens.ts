/**
 * Bearer tokens for the TCP listener of `forge serve`: those given (`--token`, FORGE_API_TOKENS),
 * else the one in `<state>/api-token`, made on first start (random, mode 0600) so a fresh service is
 * never open on TCP.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ServiceTokens {
  tokens: string[];
  /** The file the token came from (or was written to), when it was not configured. */
  file?: string;
  /** True when the token was made on this start. */
  generated: boolean;
}

/** Tokens listed in an environment variable: separated by commas or white space. */
export function splitTokens(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((t) => t !== '');
}

export function tokenFile(stateDir: string): string {
  return join(stateDir, 'api-token');
}

export function resolveTokens(stateDir: string, configured: string[]): ServiceTokens {
  if (configured.length > 0) return { tokens: configured, generated: false };
  const file = tokenFile(stateDir);
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored !== '') return { tokens: [stored], file, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { tokens: [token], file, generated: true };
}
