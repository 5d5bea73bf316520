/**
 * The engine's Python helpers (the stage API relay, the host module launcher) are started alike:
 * through the engine's exec as a process group of their own that dies with the engine (SIGKILL
 * included), speaking JSON lines on a two-way channel, their file descriptor 3.
 */
import type { Duplex } from 'node:stream';
import type { GroupProcess } from '@debian-forge/host';
import { startGroup } from './exec.ts';

export interface Helper {
  group: GroupProcess;
  channel: Duplex;
  /** Writes `obj` as one JSON line, unless the channel is gone. */
  send(obj: unknown): void;
}

/** Starts `argv`; each line it writes on the channel goes to `onLine` (which may throw: `onBadLine`). */
export function startHelper(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> },
  onLine: (line: string) => void,
  onBadLine: (err: Error) => void,
): Helper {
  const group = startGroup(argv, { ...options, channel: true, parentDeathSignal: 'SIGKILL' });
  const channel = group.channel as Duplex;
  let pending = '';
  channel.setEncoding('utf8');
  channel.on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        onLine(line);
      } catch (err) {
        onBadLine(err as Error);
      }
    }
  });
  channel.on('error', () => {});
  return {
    group,
    channel,
    send(obj) {
      if (!channel.destroyed) channel.write(`${JSON.stringify(obj)}\n`);
    },
  };
}
