/**
 * For the tests of the running service (and the web UI's browser tests and bench): `forge serve` as
 * a child process of the real CLI (what it printed tells where it listens); requests to it go
 * through @debian-forge/api/testing/http-client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FORGE_SELF } from './self.ts';

const [NODE, FORGE] = FORGE_SELF as [string, string];
/** The repository's root, where the tests run forge from. */
const REPO = resolve(import.meta.dirname, '../../..');

/** The command line of `forge ARGS`, in the network namespace `netns` when one is named. */
export function forgeArgv(args: string[], netns?: string): string[] {
  return [...(netns ? ['ip', 'netns', 'exec', netns] : []), NODE, FORGE, ...args];
}

/** Starts `forge ARGS` (in `netns`) and returns the child, for tests that kill it. */
export function forgeChild(args: string[], env?: NodeJS.ProcessEnv, netns?: string) {
  const [program, ...rest] = forgeArgv(args, netns) as [string, ...string[]];
  return spawn(program, rest, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env } : {}),
  });
}

export interface Serve {
  child: ChildProcess;
  stateDir: string;
  socket: string;
  /** `http://host:port` of the TCP listener. */
  url: string;
  token: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Where `startServe` runs the service: its TCP listener, and a network namespace. */
export interface ServeWhere {
  /** HOST:PORT (default 127.0.0.1:0). */
  listen?: string;
  netns?: string;
}

/** Starts `forge serve --state-dir DIR --listen 127.0.0.1:0 ARGS` and waits until it is ready. */
export async function startServe(
  stateDir: string,
  args: string[] = [],
  timeoutMs = 60_000,
  where: ServeWhere = {},
): Promise<Serve> {
  const listen = where.listen ?? '127.0.0.1:0';
  const child = forgeChild(
    ['serve', '--state-dir', stateDir, '--listen', listen, ...args],
    undefined,
    where.netns,
  );
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = once(child, 'exit');
  const deadline = Date.now() + timeoutMs;
  while (!/forge serve: ready/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`forge serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const socket = /listening on (\/\S+) \(unix socket/.exec(out)?.[1] ?? '';
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? '';
  const tokenFile = /the bearer token for TCP is in (\S+)/.exec(out)?.[1];
  let token = '';
  try {
    token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : '';
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    stateDir,
    socket,
    url,
    token,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code as number | null;
    },
  };
}

export const serveStatePaths = (stateDir: string) => ({
  token: join(stateDir, 'api-token'),
  redisPid: join(stateDir, 'redis', 'redis.pid'),
});
