/**
 * The embedded Redis of `forge serve` when no REDIS_URL is given: a private `redis-server` on a unix
 * socket in `<state>/redis`, reachable only by its owner, with its data kept there (append-only
 * file) so queued jobs survive a restart of the service. A server left running by a `forge serve`
 * that was killed (its pid file still names a live redis-server) is stopped first; the data it wrote
 * is read again by the new one.
 *
 * The server is supervised: when it exits while the service runs (killed, crashed, out of memory),
 * it is started again on the same socket and data directory, after a wait that doubles from
 * BACKOFF.firstMs up to BACKOFF.maxMs and starts over once a server has run BACKOFF.resetAfterMs.
 * Each restart is one line of the log. The connections of the service reconnect by themselves;
 * the jobs queued before are read back from the append-only file. `stop()` ends it for good.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive, redisServerArgv, start } from '@debian-forge/host';
import { redisAnswers } from '@debian-forge/queue';
import type { RedisOptions } from 'ioredis';
import { ServiceError } from './errors.ts';

export interface PrivateRedis {
  socket: string;
  /** `unix://…` URL, what REDIS_URL would say. */
  url: string;
  options: RedisOptions;
  /** The pid of the server running now (a restart changes it), for tests. */
  readonly pid: number;
  /** Stops the server for good (no restart after this). */
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Where each restart is reported, one line (default: standard error). */
  log?: (line: string) => void;
}

/** The waits before a restart; a server that ran `resetAfterMs` is restarted after `firstMs` again. */
const BACKOFF = { firstMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

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

/** One redis-server process. */
interface Server {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Resolves when it has exited (or could not be started); never rejects. */
  exited: Promise<void>;
  hasExited(): boolean;
  /** How it ended, in words. */
  how(): string;
  /** The last of what it printed. */
  output(): string;
}

function launch(argv: string[]): Server {
  let output = '';
  const started = start(argv, { env: { ...process.env } as Record<string, string> }, (chunk) => {
    output = (output + chunk).slice(-8192);
  });
  let ended: { exitCode: number | null; signal: NodeJS.Signals | null } | Error | undefined;
  const exited = started.done.then(
    (end) => {
      ended = end;
    },
    (err: Error) => {
      ended = err; // no redis-server to run
    },
  );
  return {
    child: started.child,
    pid: started.child.pid ?? 0,
    startedAt: Date.now(),
    exited,
    hasExited: () => ended !== undefined,
    how() {
      if (ended instanceof Error) return `could not be started (${ended.message})`;
      if (ended?.signal) return `was killed by ${ended.signal}`;
      // A server that gives up says why in its last line (a bad append-only file, a full disk).
      const last = output.trim().split('\n').pop()?.trim();
      return `exited with code ${ended?.exitCode}${last ? `: ${last}` : ''}`;
    },
    output: () => output,
  };
}

/** Stops a server: SIGTERM (and SIGCONT, for one that was stopped), SIGKILL after STOP_TIMEOUT_MS. */
async function stopServer(server: Server): Promise<void> {
  if (server.hasExited()) return;
  server.child.kill('SIGTERM');
  server.child.kill('SIGCONT'); // a stopped (SIGSTOP) server would act on SIGTERM only when continued
  const timer = setTimeout(() => server.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await server.exited;
  clearTimeout(timer);
}

/** Waits until `server` answers on `options`; throws a ServiceError when it exits or never does. */
async function answers(server: Server, options: RedisOptions, socket: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 50))]);
    if (server.hasExited()) {
      throw new ServiceError(`the private redis-server ${server.how()}\n${server.output()}`);
    }
    if (await redisAnswers(options)) return;
    if (Date.now() > deadline) {
      throw new ServiceError(
        `the private redis-server did not answer on ${socket} within ${START_TIMEOUT_MS / 1000} s\n${server.output()}`,
      );
    }
  }
}

function removeSocket(socket: string): void {
  if (existsSync(socket) && lstatSync(socket).isSocket()) unlinkSync(socket);
}

/** Starts the private Redis of a state directory (in `<stateDir>/redis`) and supervises it. */
export async function startPrivateRedis(
  stateDir: string,
  opts: PrivateRedisOptions = {},
): Promise<PrivateRedis> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`forge serve: ${line}\n`));
  const dir = join(stateDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await stopStaleRedis(dir);
  const socket = join(dir, 'redis.sock');
  removeSocket(socket);
  const argv = redisServerArgv({ socket, dir, appendOnly: true, pidFile: join(dir, 'redis.pid') });
  const options: RedisOptions = { path: socket, maxRetriesPerRequest: null };

  let server = launch(argv);
  try {
    await answers(server, options, socket);
  } catch (err) {
    await stopServer(server);
    throw err;
  }

  let stopped = false;
  let restarts = 0;
  let wait = BACKOFF.firstMs;
  let timer: NodeJS.Timeout | undefined;

  const restart = async () => {
    timer = undefined;
    if (stopped) return;
    removeSocket(socket); // a killed server leaves its socket behind
    const next = launch(argv);
    server = next;
    supervise(next);
    try {
      await answers(next, options, socket);
    } catch {
      // An exit is supervise's to report. A server that runs without answering yet may be reading
      // a long append-only file: it is left to it (killing it would only start the reading over);
      // the service's requests answer 503 meanwhile, as while Redis hangs.
      if (!next.hasExited() && !stopped) {
        log(
          `the private redis-server (pid ${next.pid}) does not answer ${START_TIMEOUT_MS / 1000} s after its restart`,
        );
      }
    }
  };

  const supervise = (watched: Server) => {
    void watched.exited.then(() => {
      if (stopped || watched !== server) return;
      if (Date.now() - watched.startedAt >= BACKOFF.resetAfterMs) wait = BACKOFF.firstMs;
      const delay = wait;
      wait = Math.min(wait * 2, BACKOFF.maxMs);
      restarts += 1;
      log(
        `the private redis-server (pid ${watched.pid}) ${watched.how()}; starting it again in ${delay / 1000} s (restart ${restarts})`,
      );
      timer = setTimeout(() => void restart(), delay);
    });
  };
  supervise(server);

  return {
    socket,
    url: `unix://${socket}`,
    options,
    get pid() {
      return server.pid;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await stopServer(server);
    },
  };
}
