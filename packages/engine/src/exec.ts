/**
 * The one place the engine starts programs. Argument vectors only (never a shell); each option and
 * its value on one line at the call site. `run` waits and returns the output; `start` returns the
 * running process for streaming (the stage runner). A failure becomes an `EngineError` naming the
 * command, its exit status and the end of its output.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { EngineError, EngineErrorCode } from './errors.ts';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Replace the environment instead of extending it. */
  extendEnv?: boolean;
  input?: string | Uint8Array;
  /** Milliseconds; the process is killed (SIGKILL) after it. */
  timeout?: number;
  /** Accept these exit codes besides 0. */
  okCodes?: number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (!program) throw new EngineError(EngineErrorCode.Command, 'empty command');
  const r = await execa(program, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    input: options.input,
    timeout: options.timeout,
    killSignal: 'SIGKILL',
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const exitCode = r.exitCode ?? -1;
  if (exitCode !== 0 && !(options.okCodes ?? []).includes(exitCode)) {
    const why =
      r.failed && r.exitCode === undefined
        ? (r.shortMessage ?? 'could not start')
        : `exit status ${exitCode}`;
    const tail = `${r.stderr}${r.stdout}`.trim().split('\n').slice(-5).join('\n');
    throw new EngineError(EngineErrorCode.Command, `${argv.join(' ')}: ${why}${tail ? `\n${tail}` : ''}`);
  }
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode };
}

export interface StartOptions {
  env: Record<string, string>;
  cwd?: string;
}

/** Starts a long-running process with stdout and stderr merged into one stream, stdin closed. */
export function start(argv: string[], options: StartOptions): ResultPromise {
  const [program, ...args] = argv;
  if (!program) throw new EngineError(EngineErrorCode.Command, 'empty command');
  return execa(program, args, {
    env: options.env,
    extendEnv: false,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    all: true,
    buffer: false,
    reject: false,
  });
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

/**
 * Starts a helper that lives beside the engine with all three standard streams piped (the flock
 * holders of lock.ts); it ends when its standard input closes, which also happens if we die.
 */
export function spawnPiped(argv: string[]): ChildProcessWithoutNullStreams {
  const [program, ...args] = argv;
  if (!program) throw new EngineError(EngineErrorCode.Command, 'empty command');
  return spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}
