/**
 * The one place programs are started. Argument vectors only (never a shell); each option and its
 * value on one line at the call site. `run` waits and returns the output; `start` runs a process
 * whose merged output is streamed (a stage, a redis-server); `startGroup` runs one as the leader of
 * a process group that can be ended as a whole. A failure is a `HostError` naming the command, its
 * exit status and the end of its output; the engine and apt give it codes of their own.
 *
 * Built on node:child_process directly rather than execa: a build starts hundreds of short
 * programs, and execa's per-call work (option normalisation, verbose and signal tables) cost more
 * CPU than the programs themselves in the engine's benchmark.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { HostError, HostErrorCode } from './errors.ts';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Replace the environment instead of extending it. */
  extendEnv?: boolean;
  input?: string | Uint8Array;
  /** Milliseconds; the process is killed (SIGKILL) after it. */
  timeout?: number;
  /** Accept these exit codes besides 0, or every exit ('any': the caller reads the status). */
  okCodes?: number[] | 'any';
  /** Open file descriptors handed to the child as its 3, 4, … */
  extraFds?: number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status, or 128 + the signal's number for a process killed by one. */
  exitCode: number;
  /** The signal that killed the process, or null. */
  signal: NodeJS.Signals | null;
}

const MAX_OUTPUT = 256 * 1024 * 1024;

function emptyCommand(): HostError {
  return new HostError(HostErrorCode.Start, 'empty command');
}

export function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (!program) return Promise.reject(emptyCommand());
  return new Promise((resolve, reject) => {
    const env = options.extendEnv === false ? options.env : { ...process.env, ...options.env };
    const child = spawn(program, args, {
      cwd: options.cwd,
      env,
      stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout?.on('data', collect(out));
    child.stderr?.on('data', collect(err));
    const timer =
      options.timeout !== undefined ? setTimeout(() => child.kill('SIGKILL'), options.timeout) : undefined;
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(
        new HostError(HostErrorCode.Start, `${argv.join(' ')}: could not start: ${e.message}`, { cause: e }),
      );
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      const ok = options.okCodes === 'any' || exitCode === 0 || (options.okCodes ?? []).includes(exitCode);
      if (!ok) {
        const why = signal ? `killed by ${signal}` : `exit status ${exitCode}`;
        const tail = `${stderr}${stdout}`.trim().split('\n').slice(-5).join('\n');
        reject(new HostError(HostErrorCode.Exit, `${argv.join(' ')}: ${why}${tail ? `\n${tail}` : ''}`));
        return;
      }
      resolve({ stdout, stderr, exitCode, signal });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface StartOptions {
  env: Record<string, string>;
  cwd?: string;
}

export interface Started {
  child: ChildProcess;
  /** Resolves when the process has exited and its output is drained. */
  done: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a long-running process with a clean environment, standard input closed, and stdout and
 * stderr both delivered, in order of arrival, to `onOutput`.
 */
export function start(argv: string[], options: StartOptions, onOutput: (chunk: string) => void): Started {
  const [program, ...args] = argv;
  if (!program) throw emptyCommand();
  const child = spawn(program, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const done = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new HostError(HostErrorCode.Start, `cannot run ${program}: ${e.message}`, { cause: e })),
    );
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal }));
  });
  return { child, done };
}

/** The full path of a program found on `PATH` (plus the sbin directories), or undefined. */
export function which(program: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(':'), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface GroupStartOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Extra output pipes of the child, as its file descriptors 3, 4, … */
  extraOutputs?: number;
  /**
   * A two-way channel (a stream socket pair, which is what Node makes of a stdio 'pipe') as the
   * child's next file descriptor after the extra outputs, for a helper that is asked and answers.
   */
  channel?: boolean;
  /**
   * A signal the child gets when this process dies, even by SIGKILL (set with `setpriv --pdeathsig`,
   * which keeps it across exec), so nothing started here outlives its parent. Needs util-linux's
   * setpriv; without it the child is started plainly. A parent that dies between the fork and
   * setpriv's exec of `argv` leaves the child without the signal.
   */
  parentDeathSignal?: NodeJS.Signals;
}

export interface GroupProcess {
  /** Process id of the leader, also the id of the process group. */
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /** The readable ends of the extra pipes, fd 3 first. */
  extra: Readable[];
  /** This end of the two-way channel, when one was asked for. */
  channel?: Duplex;
  /** Resolves when the leader has exited and its output is drained. */
  done: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Ends the whole group: SIGTERM to every member, SIGKILL to what is left after `graceMs`. Resolves
   * when the leader has exited and no member of the group is left (or `waitMs` after the SIGKILL,
   * for members that cannot die, such as ones stuck in the kernel).
   */
  terminate(opts?: { graceMs?: number; waitMs?: number }): Promise<void>;
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z, …) and the process group, or undefined. */
function procStat(pid: string): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === undefined ? undefined : { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** True while a process `pid` exists that is not a zombie. */
export function pidAlive(pid: number): boolean {
  const stat = procStat(String(pid));
  return stat !== undefined && stat.state !== 'Z';
}

/**
 * True while some process of group `pgid` exists that is not a zombie. Zombies do not count: an
 * orphan is reparented to PID 1, and an init that does not reap (as in some microVMs and
 * containers) leaves it a zombie for good, though it is gone for every purpose here.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Starts `argv` as the leader of a new session and process group (so every process it starts,
 * unless it leaves the group itself, can be signalled at once), standard input closed, stdout,
 * stderr and `extraOutputs` more pipes readable.
 */
export function startGroup(argv: string[], options: GroupStartOptions = {}): GroupProcess {
  const [first] = argv;
  if (!first) throw emptyCommand();
  const setpriv = options.parentDeathSignal ? which('setpriv') : undefined;
  const full = setpriv ? [setpriv, '--pdeathsig', options.parentDeathSignal as string, '--', ...argv] : argv;
  const [program, ...args] = full as [string, ...string[]];
  const extra = options.extraOutputs ?? 0;
  const child = spawn(program, args, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    detached: true,
    stdio: [
      'ignore',
      'pipe',
      'pipe',
      ...Array.from({ length: extra + (options.channel ? 1 : 0) }, () => 'pipe' as const),
    ],
  });
  const done = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new HostError(HostErrorCode.Start, `cannot run ${first}: ${e.message}`, { cause: e })),
    );
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal }));
  });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn failed; `done` rejects with the reason
    return {
      pid: -1,
      stdout: child.stdout as Readable,
      stderr: child.stderr as Readable,
      extra: [],
      done,
      terminate: async () => {},
    };
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const waitEmpty = async (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    while (groupAlive(pid)) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  };
  const terminate = async (opts: { graceMs?: number; waitMs?: number } = {}) => {
    signalGroup(pid, 'SIGTERM');
    if (await waitEmpty(opts.graceMs ?? 5000)) return;
    signalGroup(pid, 'SIGKILL');
    await waitEmpty(opts.waitMs ?? 5000);
  };
  return {
    pid,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    extra: Array.from({ length: extra }, (_, i) => child.stdio[3 + i] as Readable),
    ...(options.channel ? { channel: child.stdio[3 + extra] as Duplex } : {}),
    done,
    terminate,
  };
}
