/**
 * Programs of this package, started by the host layer (`@debian-forge/host`). `run` returns the
 * exit code with both outputs; it does not throw on a non-zero exit, because apt's exit code alone
 * says little (the callers read apt's words). Programs run with LC_ALL=C so that apt's messages are
 * the English ones the callers parse. A program that cannot start is an `AptError` (Command).
 */
import { HostError, run as hostRun, type RunOptions, type RunResult } from '@debian-forge/host';
import { AptError, AptErrorCode } from './errors.ts';

export type { RunResult };

export async function run(
  argv: string[],
  options: Pick<RunOptions, 'cwd' | 'env' | 'input' | 'timeout' | 'extraFds'> = {},
): Promise<RunResult> {
  let r: RunResult;
  try {
    r = await hostRun(argv, {
      ...options,
      env: { LC_ALL: 'C', LANGUAGE: '', ...options.env },
      okCodes: 'any',
    });
  } catch (err) {
    if (err instanceof HostError) throw new AptError(AptErrorCode.Command, err.message, { cause: err });
    throw err;
  }
  // The callers quote stderr: a program killed at its timeout says so there.
  return r.signal ? { ...r, stderr: `${r.stderr}\nkilled by ${r.signal}` } : r;
}

/** Like `run`, but a non-zero exit becomes an `AptError` (Command) naming the command and its output. */
export async function runChecked(
  argv: string[],
  options: Parameters<typeof run>[1] = {},
): Promise<RunResult> {
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
