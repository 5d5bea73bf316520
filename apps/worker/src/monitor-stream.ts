/**
 * Reads the JSONSeqMonitor stream of `forge build --monitor JSONSeqMonitor` (RFC 7464 records with
 * OSBuild's fields) and turns it into what a compose shows: progress (stage n of m of the pipeline
 * being built) and log lines (the engine's messages and every stage's output, line by line).
 *
 * Records name their context in full only the first time; later ones carry its id alone, so the
 * reader keeps the origins it has seen. Stage output comes in chunks that need not end at a line
 * break: it is joined and cut at line breaks; the engine's own messages are lines of their own.
 */

export type BuildEvent =
  | { kind: 'progress'; done: number; total: number; message: string }
  | { kind: 'log'; line: string };

interface Progress {
  name?: unknown;
  total?: unknown;
  done?: unknown;
  progress?: Progress;
}

interface MonitorRecord {
  message?: unknown;
  context?: { id?: unknown; origin?: unknown };
  progress?: Progress;
  result?: { name?: unknown; success?: unknown };
  duration?: unknown;
}

const RS = '\x1e';
const MONITOR_ORIGIN = 'osbuild.monitor';

const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);

export class MonitorStream {
  readonly #emit: (event: BuildEvent) => void;
  readonly #origins = new Map<string, string>();
  #buffer = '';
  #text = '';

  constructor(emit: (event: BuildEvent) => void) {
    this.#emit = emit;
  }

  /** Feeds a chunk of the stream. */
  push(chunk: string): void {
    this.#buffer += chunk;
    let end = this.#buffer.indexOf('\n');
    while (end >= 0) {
      const record = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 1);
      this.#record(record);
      end = this.#buffer.indexOf('\n');
    }
  }

  /** The stream ended: what is left of a record and of a line is given out. */
  end(): void {
    if (this.#buffer.trim()) this.#record(this.#buffer);
    this.#buffer = '';
    this.#flushText();
  }

  #record(raw: string): void {
    // JSON text cannot hold a raw line break, so a record ends at one; RS starts it.
    const text = raw.startsWith(RS) ? raw.slice(1) : raw;
    if (!text.trim()) return;
    let rec: MonitorRecord;
    try {
      rec = JSON.parse(text) as MonitorRecord;
    } catch {
      this.#line(`(unreadable monitor record) ${text.slice(0, 200)}`);
      return;
    }
    const message = typeof rec.message === 'string' ? rec.message : '';
    const origin = this.#origin(rec.context);
    if (origin !== MONITOR_ORIGIN) {
      this.#text += message;
      this.#flushText(false);
      return;
    }
    this.#flushText();
    const sub = rec.progress?.progress;
    const pipeline = typeof sub?.name === 'string' ? sub.name.replace(/^pipeline: /, '') : undefined;
    const starting = /^Starting module (.+)$/.exec(message);
    if (starting && sub && pipeline !== undefined) {
      const done = count(sub.done);
      const total = count(sub.total);
      const step = `pipeline ${pipeline}: stage ${done + 1} of ${total} (${starting[1]})`;
      this.#line(step);
      this.#emit({ kind: 'progress', done, total, message: step });
      return;
    }
    if (message.startsWith('Finished module ') && rec.result) {
      const ok = rec.result.success === true;
      const seconds = typeof rec.duration === 'number' ? `, ${rec.duration.toFixed(2)} s` : '';
      this.#line(`${message.slice('Finished module '.length)}: ${ok ? 'done' : 'FAILED'}${seconds}`);
      if (sub && pipeline !== undefined) {
        const done = count(sub.done);
        const total = count(sub.total);
        this.#emit({
          kind: 'progress',
          done,
          total,
          message: `pipeline ${pipeline}: ${done} of ${total} stages done`,
        });
      }
      return;
    }
    if (message) this.#line(message);
  }

  #origin(context: MonitorRecord['context']): string | undefined {
    if (!context || typeof context.id !== 'string') return undefined;
    if (typeof context.origin === 'string') this.#origins.set(context.id, context.origin);
    return this.#origins.get(context.id);
  }

  /** Gives out the complete lines of stage and engine output; with `all`, the last partial one too. */
  #flushText(all = true): void {
    const lines = this.#text.split('\n');
    this.#text = all ? '' : (lines.pop() as string);
    if (all && lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) this.#line(line);
  }

  #line(line: string): void {
    this.#emit({ kind: 'log', line: line.replace(/\r$/, '') });
  }
}
