/**
 * Starts programs for this package: argument vectors only, never a shell. `run` waits and returns
 * the exit code with both outputs; it does not throw on a non-zero exit, because apt's exit code
 * alone says little (the callers read apt's words). Programs run with LC_ALL=C so that apt's
 * messages are the English ones the callers parse.
 */
import { spawn } from 'node:child_process';
import { AptError, AptErrorCode } from './errors.ts';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Uint8Array;
  /** Milliseconds; the process is killed (SIGKILL) after it. */
  timeout?: number;
  /** Extra file descriptors given to the child as 3, 4, … */
  extraFds?: number[];
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (!program) throw new AptError(AptErrorCode.Command, 'empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: { ...process.env, LC_ALL: 'C', LANGUAGE: '', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(options.extraFds ?? [])],
      timeout: options.timeout,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e) =>
      reject(new AptError(AptErrorCode.Command, `cannot run ${program}: ${e.message}`, { cause: e })),
    );
    child.once('close', (code, signal) => {
      resolve({
        exitCode: code ?? (signal ? 128 : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\nkilled by ${signal}` : ''),
      });
    });
    if (options.input !== undefined && child.stdin) child.stdin.end(options.input);
  });
}

/** Like `run`, but a non-zero exit becomes an `AptError` (Command) naming the command and its output. */
export async function runChecked(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, options);
  if (r.exitCode !== 0) {
    const tail = `${r.stderr}${r.stdout}`.trim().split('\n').slice(-8).join('\n');
    throw new AptError(
      AptErrorCode.Command,
      `${argv.join(' ')}: exit status ${r.exitCode}${tail ? `\n${tail}` : ''}`,
    );
  }
  return r;
}
