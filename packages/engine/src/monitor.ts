/**
 * Build monitors, picked by name as OSBuild's `--monitor`: `NullMonitor`, `LogMonitor` (for people)
 * and `JSONSeqMonitor` (RFC 7464 records with OSBuild's fields: message, context with origin,
 * pipeline and stage, progress nested as pipelines/sources → stages, timestamp; "Finished module"
 * records with result, options, duration and metadata). The service streams the JSON records.
 */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { pyDumps } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from './errors.ts';

export interface MonitoredPipeline {
  name: string;
  id: string | null;
  build: string | null;
  runner: string | null;
  sourceEpoch: number | null;
  stageCount: number;
  /** Set when the "pipeline" is the fetching of a source type. */
  source?: boolean;
}

export interface MonitoredStage {
  type: string;
  id: string;
  options: Record<string, unknown>;
}

export interface StageResult {
  name: string;
  id: string;
  success: boolean;
  output: string;
  error: unknown;
}

export interface SourceResultRecord {
  name: string;
  source_type: string;
  success: boolean;
  output: string;
  results: Record<string, unknown>[];
}

export interface Monitor {
  begin(pipeline: MonitoredPipeline): void;
  finish(result: { name: string }): void;
  stage(stage: MonitoredStage): void;
  result(result: StageResult | SourceResultRecord, metadata?: Record<string, unknown>): void;
  log(message: string, origin?: string): void;
}

export type MonitorName = 'NullMonitor' | 'LogMonitor' | 'JSONSeqMonitor';

export function makeMonitor(name: string, fd: number, totalSteps: number): Monitor {
  switch (name) {
    case 'NullMonitor':
      return new NullMonitor();
    case 'LogMonitor':
      return new LogMonitor(fd);
    case 'JSONSeqMonitor':
      return new JSONSeqMonitor(fd, totalSteps);
    default:
      throw new EngineError(
        EngineErrorCode.NotFound,
        `Unknown monitor: ${name} (NullMonitor, LogMonitor or JSONSeqMonitor)`,
      );
  }
}

function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

export class NullMonitor implements Monitor {
  begin(): void {}
  finish(): void {}
  stage(): void {}
  result(): void {}
  log(): void {}
}

/** What a person reads: which pipeline and stage run (n of m), the stage's output, durations. */
export class LogMonitor implements Monitor {
  readonly #fd: number;
  #start: number | undefined;
  #stageIndex = 0;
  #stageCount = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  begin(p: MonitoredPipeline): void {
    this.#stageIndex = 0;
    this.#stageCount = p.stageCount;
    if (p.source) {
      writeAll(this.#fd, `Source ${p.name}\n`);
      return;
    }
    let text = `Pipeline ${p.name}: ${p.id ?? ''}\nBuild\n  root: ${p.build ?? '<host>'}`;
    if (p.runner) text += `\n  runner: ${p.runner}`;
    if (p.sourceEpoch !== null) {
      text += `\n  source-epoch: ${new Date(p.sourceEpoch * 1000).toUTCString()} [${p.sourceEpoch}]`;
    }
    writeAll(this.#fd, `${text}\n`);
  }

  finish(): void {}

  stage(s: MonitoredStage): void {
    this.#stageIndex++;
    const counter = this.#stageCount > 0 ? `[${this.#stageIndex}/${this.#stageCount}] ` : '';
    writeAll(this.#fd, `${counter}${s.type}: ${s.id} ${JSON.stringify(s.options, null, 2)}\n`);
    this.#start = performance.now();
  }

  result(): void {
    if (this.#start === undefined) return;
    writeAll(this.#fd, `\n⏱  Duration: ${((performance.now() - this.#start) / 1000).toFixed(2)}s\n`);
    this.#start = undefined;
  }

  log(message: string): void {
    writeAll(this.#fd, message);
  }
}

interface Progress {
  name: string;
  total: number;
  done: number;
  sub?: Progress;
}

function progressDict(p: Progress): Record<string, unknown> {
  const d: Record<string, unknown> = { name: p.name, total: p.total, done: p.done };
  if (p.sub) d.progress = progressDict(p.sub);
  return d;
}

const MAX_OUTPUT = 31_000;

/** RFC 7464 JSON text sequences with OSBuild's record layout. */
export class JSONSeqMonitor implements Monitor {
  readonly #fd: number;
  readonly #progress: Progress;
  readonly #seen = new Set<string>();
  #pipeline: { name: string | null; id: string | null } = { name: null, id: null };
  #stage: { name: string | null; id: string | null } = { name: null, id: null };
  #options: Record<string, unknown> = {};
  #start: number | undefined;

  constructor(fd: number, totalSteps: number) {
    this.#fd = fd;
    this.#progress = { name: 'pipelines/sources', total: totalSteps, done: 0 };
  }

  begin(p: MonitoredPipeline): void {
    this.#pipeline = { name: p.name, id: p.id };
    if (p.stageCount > 0) this.#progress.sub = { name: `pipeline: ${p.name}`, total: p.stageCount, done: 0 };
    this.log(`Starting pipeline ${p.name}`, 'osbuild.monitor');
  }

  finish(result: { name: string }): void {
    this.#progress.done++;
    this.#progress.sub = undefined;
    this.log(`Finished pipeline ${result.name}`, 'osbuild.monitor');
  }

  stage(s: MonitoredStage): void {
    this.#stage = { name: s.type, id: s.id };
    this.#options = structuredClone(s.options ?? {});
    this.log(`Starting module ${s.type}`, 'osbuild.monitor');
    this.#start = performance.now();
  }

  result(result: StageResult | SourceResultRecord, metadata?: Record<string, unknown>): void {
    if (this.#progress.sub) this.#progress.sub.done++;
    let shown: StageResult | SourceResultRecord = result;
    if ('id' in result && result.output.length > MAX_OUTPUT) {
      const removed = result.output.length - MAX_OUTPUT;
      shown = { ...result, output: `[...${removed} bytes hidden...]\n${result.output.slice(removed)}` };
    } else if ('results' in result && pyDumps(result).length > MAX_OUTPUT) {
      shown = { ...result, results: [] };
    }
    const duration = this.#start !== undefined ? (performance.now() - this.#start) / 1000 : undefined;
    this.#write({
      message: `Finished module ${result.name}`,
      result: shown,
      context: this.#context('osbuild.monitor'),
      progress: progressDict(this.#progress),
      options: Object.keys(this.#options).length > 0 ? this.#options : undefined,
      timestamp: Date.now() / 1000,
      duration,
      metadata: metadata && Object.keys(metadata).length > 0 ? metadata : undefined,
    });
  }

  log(message: string, origin = 'org.osbuild'): void {
    this.#write({
      message,
      context: this.#context(origin),
      progress: progressDict(this.#progress),
      timestamp: Date.now() / 1000,
    });
  }

  #context(origin: string): Record<string, unknown> {
    const ctx = {
      origin,
      pipeline: { name: this.#pipeline.name, id: this.#pipeline.id, stage: { ...this.#stage } },
    };
    const id = createHash('sha256')
      .update(pyDumps(ctx, { sortKeys: true }))
      .digest('hex');
    if (this.#seen.has(id)) return { id };
    this.#seen.add(id);
    return { ...ctx, id };
  }

  #write(entry: Record<string, unknown>): void {
    const clean = Object.fromEntries(
      Object.entries(entry).filter(([, v]) => v !== undefined && v !== null && v !== ''),
    );
    writeAll(this.#fd, `\x1e${pyDumps(clean)}\n`);
  }
}
