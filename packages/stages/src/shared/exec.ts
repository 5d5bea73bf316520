/**
 * The one place stages start programs: argv arrays only (never a shell), output passed through to
 * the stage's own output so it reaches the build log, and a failure turned into a `StageError`
 * naming the program and its exit status.
 */
import { spawnSync } from 'node:child_process';
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
export function attempt(argv: string[]): Attempt {
  const [program, ...args] = argv;
  if (!program) throw new StageError('exec: empty command');
  const r = spawnSync(program, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) throw new StageError(`${program}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
