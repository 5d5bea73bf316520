/**
 * One run of `forge build` for a job, as a child process in a process group of its own (the host
 * layer's startGroup): the JSONSeqMonitor on file descriptor 3 feeds progress and log lines, the
 * `--json` output on stdout (read by the engine's schema of it) says why a build failed, standard
 * error goes to the log; a success hands back the pipelines' metadata from it. When the job's
 * signal fires, the whole group is terminated (SIGTERM, then SIGKILL). Whatever way the build ended,
 * the mounts and loop devices it recorded in its rundir are released afterwards
 * (releaseDeadEngines), since a killed engine releases nothing itself. The child also gets SIGTERM
 * if the worker dies (parent-death signal), so no build outlives a killed worker.
 */
import { type BuildOutput, readBuildOutput, releaseDeadEngines } from '@debian-forge/engine';
import { startGroup } from '@debian-forge/host';
import { VALIDATION_ERROR_TYPE } from '@debian-forge/manifest';
import { WorkerError, WorkerErrorCode } from './errors.ts';
import { type BuildEvent, MonitorStream } from './monitor-stream.ts';

export interface BuildRunOptions {
  /** How to start `forge`, e.g. `[node, …/bin/forge.js]` (see WorkerOptions.forgeCommand). */
  forgeCommand: readonly string[];
  manifestPath: string;
  outputDirectory: string;
  storeDir: string;
  /** Where the engine records its loop devices and mounts. */
  rundir: string;
  exports: string[];
  checkpoints?: string[];
  libdir?: string;
  signal: AbortSignal;
  onEvent(event: BuildEvent): void;
  /** Between SIGTERM and SIGKILL on cancel; default 3000 ms. */
  terminateGraceMs?: number;
}

/** A success carries the pipelines' metadata from `--json` (per pipeline name, per stage type). */
export type BuildOutcome =
  | { status: 'succeeded'; metadata: Record<string, Record<string, unknown>> }
  | { status: 'cancelled' };

const TAIL_LINES = 20;

/** Runs the build to its end. Resolves when it succeeded or was cancelled; throws a WorkerError otherwise. */
export async function runBuild(opts: BuildRunOptions): Promise<BuildOutcome> {
  const argv = [
    ...opts.forgeCommand,
    'build',
    opts.manifestPath,
    '--store',
    opts.storeDir,
    '--output-directory',
    opts.outputDirectory,
    '--rundir',
    opts.rundir,
    '--monitor',
    'JSONSeqMonitor',
    '--monitor-fd',
    '3',
    '--json',
    ...opts.exports.flatMap((name) => ['--export', name]),
    ...(opts.checkpoints ?? []).flatMap((pattern) => ['--checkpoint', pattern]),
    ...(opts.libdir ? ['--libdir', opts.libdir] : []),
  ];
  const child = startGroup(argv, { extraOutputs: 1, parentDeathSignal: 'SIGTERM' });
  const monitor = new MonitorStream(opts.onEvent);
  (child.extra[0] as NodeJS.ReadableStream).setEncoding('utf8');
  child.extra[0]?.on('data', (chunk: string) => monitor.push(chunk));
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const stderrLines: string[] = [];
  const stderr = new LineSplitter((line) => {
    stderrLines.push(line);
    if (stderrLines.length > TAIL_LINES) stderrLines.shift();
    opts.onEvent({ kind: 'log', line });
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => stderr.push(chunk));

  let killing: Promise<void> | undefined;
  const cancel = () => {
    killing ??= child.terminate({ graceMs: opts.terminateGraceMs ?? 3000 });
  };
  if (opts.signal.aborted) cancel();
  opts.signal.addEventListener('abort', cancel, { once: true });
  let end: { exitCode: number | null; signal: NodeJS.Signals | null };
  try {
    end = await child.done;
  } finally {
    opts.signal.removeEventListener('abort', cancel);
    if (!killing && child.pid > 0) {
      // The leader is gone; its helpers (a mount, a loop setup) must not outlive it.
      killing = child.terminate({ graceMs: 1000 });
    }
    await killing;
    monitor.end();
    stderr.end();
    await releaseDeadEngines(opts.rundir, {
      log: (line) => opts.onEvent({ kind: 'log', line: `cleanup: ${line}` }),
    });
  }
  if (opts.signal.aborted) return { status: 'cancelled' };
  const output = readBuildOutput(stdout);
  if (end.exitCode === 0) {
    return { status: 'succeeded', metadata: output?.type === 'result' ? output.metadata : {} };
  }
  const why = end.signal ? `killed by ${end.signal}` : `exit status ${end.exitCode}`;
  if (end.exitCode === 2) {
    const errors = validationErrors(output) ?? stderrLines.join('\n');
    throw new WorkerError(
      WorkerErrorCode.INVALID_MANIFEST,
      `forge build refused the manifest: ${errors || why}`,
    );
  }
  throw new WorkerError(WorkerErrorCode.BUILD_FAILED, failureMessage(output, stderrLines, why));
}

/** The manifest's validation errors, one `path: message` a line. */
function validationErrors(output: BuildOutput | undefined): string | undefined {
  if (output?.type !== VALIDATION_ERROR_TYPE) return undefined;
  return output.errors.map((e) => `${e.path.join('.')}: ${e.message}`).join('\n');
}

/** Why a build failed, from its result object, else the end of standard error. */
function failureMessage(output: BuildOutput | undefined, stderrLines: string[], why: string): string {
  const tail = (text: string) => text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  if (output?.type === 'error') {
    const { error } = output;
    if (error.type === 'org.osbuild.error.stage' && error.details.stage.type) {
      const { type, output: text } = error.details.stage;
      return `stage ${type} failed${text ? `:\n${tail(text)}` : ''}`;
    }
    if (error.type === 'org.osbuild.error.source') {
      const { type, output: text } = error.details.source;
      return `source ${type} failed: ${tail(text)}`;
    }
  }
  // No result object: the engine itself failed (the reason is on standard error).
  const err = stderrLines.join('\n').trim();
  return `forge build failed (${why})${err ? `: ${err}` : ''}`;
}

/** Cuts a text stream into lines. */
class LineSplitter {
  #rest = '';
  constructor(readonly emit: (line: string) => void) {}
  push(chunk: string): void {
    const lines = (this.#rest + chunk).split('\n');
    this.#rest = lines.pop() as string;
    for (const line of lines) this.emit(line);
  }
  end(): void {
    if (this.#rest) this.emit(this.#rest);
    this.#rest = '';
  }
}
