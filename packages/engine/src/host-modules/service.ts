/**
 * One host module running as OSBuild runs it (`osbuild/host.py`, ServiceManager and ServiceClient),
 * through its launcher (launcher-program.ts): calls are `{type: "method", data: {name, args}}`
 * datagrams, one at a time, answered by `{type: "reply", data: {reply}}` or
 * `{type: "exception", data: {name, value, backtrace}}`; `signal` datagrams before the reply are
 * logged. Stopping closes the socket, which is how the module learns to release what it holds
 * (OSBuild's modules ignore SIGTERM for that reason); only one that does not exit in time is killed.
 * The launcher dies with the engine (SIGKILL included), and then the module sees its socket close.
 */
import { basename } from 'node:path';
import { startHelper } from '../helper.ts';
import { LAUNCHER_PROGRAM } from './launcher-program.ts';

/** How long a stopped module may take to release what it holds and exit. */
const STOP_TIMEOUT_MS = 60_000;

export interface HostService {
  /** Calls `method` with `args`; resolves with the reply, rejects with the module's exception. */
  call(method: string, args: unknown): Promise<unknown>;
  /** Closes the module's socket and waits for it to exit; idempotent. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** OSBuild's service id, e.g. `device/disk`. */
  id: string;
  /** Added to the module's environment (PYTHONPATH naming its libdir). */
  env: Record<string, string>;
  log(line: string): void;
}

type Event = {
  ready?: number;
  message?: string;
  closed?: boolean;
  error?: string;
  exited?: number;
  dropped?: string;
};

/** Starts `exe` as a host module; resolves once it runs. */
export async function startHostService(
  python: string,
  exe: string,
  opts: ServiceOptions,
): Promise<HostService> {
  const name = basename(exe);
  let onEvent: ((e: Event) => void) | undefined;
  const queued: Event[] = [];
  let exited: number | undefined;
  const helper = startHelper(
    [python, '-I', '-c', LAUNCHER_PROGRAM, exe, opts.id],
    { env: opts.env },
    (line) => {
      const event = JSON.parse(line) as Event;
      if (event.exited !== undefined) exited = event.exited;
      if (onEvent) onEvent(event);
      else queued.push(event);
    },
    (err) => opts.log(`host module launcher: unreadable event: ${err.message}`),
  );
  const { group, channel } = helper;
  // The module's output, line by line, named as OSBuild's ServiceManager names it.
  let partial = '';
  group.stdout.setEncoding('utf8');
  group.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) opts.log(`${opts.id} (${name}): ${line}`);
  });
  group.stderr.setEncoding('utf8');
  group.stderr.on('data', (chunk: string) => opts.log(`host module launcher: ${chunk.trimEnd()}`));
  const gone = group.done.then(
    () => undefined,
    () => undefined,
  );
  /** The next event, or undefined once the launcher is gone. */
  const next = () =>
    new Promise<Event | undefined>((resolve) => {
      const first = queued.shift();
      if (first) return resolve(first);
      onEvent = (e) => {
        onEvent = undefined;
        resolve(e);
      };
      void gone.then(() => {
        onEvent = undefined;
        resolve(undefined);
      });
    });
  const failure = (why: string) =>
    new Error(`host module ${name} (${opts.id}) ${why}${partial ? `: ${partial.trim()}` : ''}`);

  const ready = await next();
  if (ready?.ready === undefined) {
    await group.terminate({ graceMs: 0, waitMs: 2000 });
    throw failure('did not start');
  }

  let busy: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const call = async (method: string, args: unknown): Promise<unknown> => {
    if (stopping) throw failure('is stopped');
    helper.send({ send: { type: 'method', data: { name: method, args } } });
    for (;;) {
      const event = await next();
      if (event === undefined || event.closed || event.exited !== undefined)
        throw failure(`closed its socket during ${method}${event?.error ? ` (${event.error})` : ''}`);
      if (event.dropped !== undefined) throw failure(`sent a datagram that was dropped (${event.dropped})`);
      const msg = JSON.parse(event.message ?? 'null') as { type?: string; data?: Record<string, unknown> };
      if (msg?.type === 'signal') {
        opts.log(`${opts.id} (${name}): signal ${JSON.stringify(msg.data?.reply)}`);
        continue;
      }
      if (msg?.type === 'reply' && msg.data && 'reply' in msg.data) return msg.data.reply;
      if (msg?.type === 'exception' && msg.data) {
        const { name: kind, value, backtrace } = msg.data;
        if (typeof backtrace === 'string' && backtrace)
          opts.log(`${opts.id} (${name}): ${backtrace.trimEnd()}`);
        throw new Error(`${String(kind)}: ${String(value)}`);
      }
      throw failure(`answered ${method} with a message that is neither a reply nor an exception`);
    }
  };

  return {
    call(method, args) {
      // One call at a time, as OSBuild's client makes them.
      const result = busy.then(() => call(method, args));
      busy = result.catch(() => {});
      return result;
    },
    stop() {
      stopping ??= (async () => {
        await busy;
        helper.send({ stop: true });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
        clearTimeout(timer);
        channel.end();
        await group.terminate({ graceMs: 0, waitMs: 2000 });
        if (exited !== undefined && exited !== 0)
          opts.log(`${opts.id} (${name}): exited with status ${exited}`);
      })();
      return stopping;
    },
  };
}
