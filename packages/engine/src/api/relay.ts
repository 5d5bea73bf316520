/**
 * Starts the relay (relay-program.ts) on a stage's API sockets and hands each datagram to the
 * endpoint that owns the socket; what the endpoint returns is sent back on the same connection.
 * The relay is a process group of its own that dies with the engine (SIGKILL included), so a
 * killed build leaves no listener behind.
 */
import { which } from '@debian-forge/host';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { startHelper } from '../helper.ts';
import { RELAY_PROGRAM } from './relay-program.ts';

/** One datagram a stage sent: its JSON text, and the descriptors that came with it as paths. */
export interface Datagram {
  text: string;
  /** `/proc/<relay>/fd/<n>`: open while the endpoint handles the datagram. */
  fds: string[];
}

/** An API endpoint: `/run/osbuild/api/<name>` in the sandbox, answering datagrams. */
export interface Endpoint {
  name: string;
  /** The reply to send back, or undefined for none. */
  handle(datagram: Datagram): Promise<unknown>;
}

export interface Relay {
  /** Reads what the stage left queued, waits for every answer, and ends the relay. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;

/**
 * The Python interpreter the relay runs with, or undefined when the host has none: the system's
 * first, which starts at once, where a version manager's shim on PATH would first run a shell.
 */
export function relayInterpreter(): string | undefined {
  return which('python3', '/usr/bin:/bin') ?? which('python3');
}

/**
 * Starts the relay listening in `dir` on a socket named after each endpoint; resolves once it
 * listens. The relay binds the names relative to `dir`, its working directory, since a socket's
 * path is limited to 107 bytes and a store's can be longer. `log` gets what the relay itself says
 * (a crash of it, a datagram it dropped).
 */
export async function startRelay(
  python: string,
  dir: string,
  endpoints: Endpoint[],
  log: (line: string) => void,
): Promise<Relay> {
  const helper = startHelper(
    [python, '-I', '-c', RELAY_PROGRAM, ...endpoints.map((e) => e.name)],
    { cwd: dir },
    (line) => dispatch(line),
    (err) => log(`api relay: unreadable event: ${err.message}`),
  );
  const { group, channel } = helper;
  let said = '';
  group.stderr.setEncoding('utf8');
  group.stderr.on('data', (chunk: string) => {
    said = (said + chunk).slice(-2000);
    log(`api relay: ${chunk.trimEnd()}`);
  });
  group.stdout.resume();
  const inFlight = new Set<Promise<void>>();
  let onReady: (() => void) | undefined;
  let onStopped: (() => void) | undefined;

  const dispatch = (line: string) => {
    const event = JSON.parse(line) as {
      ready?: number;
      stopped?: boolean;
      seq?: number;
      endpoint?: number;
      message?: string;
      fds?: string[];
      dropped?: string;
    };
    if (event.ready !== undefined) return onReady?.();
    if (event.stopped) return onStopped?.();
    const endpoint = endpoints[event.endpoint ?? -1];
    if (event.dropped !== undefined || !endpoint || event.message === undefined) {
      log(
        `api: a message to ${endpoint?.name ?? 'an unknown endpoint'} was dropped (${event.dropped ?? 'bad'})`,
      );
      return;
    }
    const job = endpoint
      .handle({ text: event.message, fds: event.fds ?? [] })
      .catch((err: unknown) => {
        log(`api ${endpoint.name}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      })
      .then((reply) => helper.send({ seq: event.seq, reply: reply ?? null }))
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  };

  const exited = group.done.then(() => undefined);
  const failed = (why: string) =>
    new EngineError(EngineErrorCode.Host, `the stage API relay (${python}) ${why}`);
  await Promise.race([
    new Promise<void>((resolve) => {
      onReady = resolve;
    }),
    exited.then(() => {
      throw failed(`exited before it listened${said ? `: ${said.trim().split('\n').pop()}` : ''}`);
    }),
  ]);

  return {
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        onStopped = resolve;
      });
      helper.send({ stop: true });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        stopped,
        exited,
        new Promise((resolve) => {
          timer = setTimeout(resolve, STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      await Promise.all(inFlight);
      channel.end();
      await group.terminate({ graceMs: 2000, waitMs: 2000 });
    },
  };
}
