/**
 * The engine's programs, started by the host layer (`@debian-forge/host`), with the engine's error
 * codes, which the CLI and a build's result carry: a program that fails or cannot start under `run`
 * is a Command error, a long-running one (`start`) that cannot start a Host error, as a stage's
 * failure reports them.
 */
import {
  type GroupProcess,
  type GroupStartOptions,
  HostError,
  run as hostRun,
  start as hostStart,
  startGroup as hostStartGroup,
  type RunOptions,
  type RunResult,
  type Started,
  type StartOptions,
} from '@debian-forge/host';
import { EngineErrorCode as Code, EngineError, type EngineErrorCode } from './errors.ts';

function engineError(err: unknown, code: EngineErrorCode): unknown {
  return err instanceof HostError ? new EngineError(code, err.message, { cause: err }) : err;
}

export async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  try {
    return await hostRun(argv, options);
  } catch (err) {
    throw engineError(err, Code.Command);
  }
}

/** The host's `start`, its failure to start an EngineError (Host). */
export function start(argv: string[], options: StartOptions, onOutput: (chunk: string) => void): Started {
  let started: Started;
  try {
    started = hostStart(argv, options, onOutput);
  } catch (err) {
    throw engineError(err, Code.Command);
  }
  const done = started.done.catch((err: unknown) => {
    throw engineError(err, Code.Host);
  });
  return { child: started.child, done };
}

/** The host's `startGroup` (a helper the engine talks to), its failure to start an EngineError (Host). */
export function startGroup(argv: string[], options: GroupStartOptions): GroupProcess {
  const started = hostStartGroup(argv, options);
  const done = started.done.catch((err: unknown) => {
    throw engineError(err, Code.Host);
  });
  return { ...started, done };
}
