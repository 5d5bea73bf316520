/**
 * The one place stages start programs: argv arrays only (never a shell), output passed through to
 * the stage's own output so it reaches the build log, and a failure turned into a `StageError`
 * naming the program and its exit status.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { StageError } from './errors.ts';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Data for the program's standard input. */
  input?: string | Uint8Array;
  /** Capture standard output and return it instead of passing it through. */
  capture?: boolean;
  /** A file descriptor to send standard output to (for binary output such as `gzip --stdout`). */
  stdout?: number;
  /** Exit statuses that count as success besides 0. */
  okCodes?: number[];
}

export function exec(argv: string[], options: ExecOptions = {}): string {
  const [program, ...args] = argv;
  if (!program) throw new StageError('exec: empty command');
  const r = spawnSync(program, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    stdio: [
      options.input !== undefined ? 'pipe' : 'ignore',
      options.stdout ?? (options.capture ? 'pipe' : 'inherit'),
      'inherit',
    ],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw new StageError(`${program}: ${r.error.message}`);
  if (r.status !== 0 && !(r.status !== null && options.okCodes?.includes(r.status))) {
    throw new StageError(
      `${argv.join(' ')} failed with ${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`}`,
    );
  }
  return options.capture ? (r.stdout ?? '') : '';
}

export interface Attempt {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program whose failure the caller judges: never throws for a non-zero exit status. */
export function attempt(argv: string[], env?: NodeJS.ProcessEnv): Attempt {
  const [program, ...args] = argv;
  if (!program) throw new StageError('exec: empty command');
  const r = spawnSync(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    ...(env ? { env } : {}),
  });
  if (r.error) throw new StageError(`${program}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface Streamed {
  status: number | null;
  signal: string | null;
  /** The last lines of the output (stdout and stderr as they came). */
  tail: string[];
}

/**
 * Runs a long program whose output is a log: passed through to the stage's output as it comes,
 * written to `logFd` as well, and its last `tailLines` lines kept for the error that names a
 * failure. Never throws for a non-zero exit status: the caller judges.
 */
export function execStreamed(argv: string[], logFd: number, tailLines = 40): Promise<Streamed> {
  const [program, ...args] = argv;
  if (!program) throw new StageError('exec: empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail: string[] = [];
    let partial = '';
    const take = (chunk: Buffer) => {
      process.stdout.write(chunk);
      writeSync(logFd, chunk);
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      tail = [...tail, ...lines].slice(-tailLines);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) => reject(new StageError(`${program}: ${err.message}`)));
    child.on('close', (status, signal) => {
      if (partial !== '') tail = [...tail, partial].slice(-tailLines);
      resolve({ status, signal, tail });
    });
  });
}
