/**
 * The command line of a private redis-server, the one of `forge serve` and the one of the tests:
 * on a unix socket only its owner reaches (no TCP port), in the foreground, with no snapshots.
 */

export interface RedisServerOptions {
  socket: string;
  /** Its working directory, where the append-only file goes. */
  dir: string;
  /** Keep the data in an append-only file in `dir`, so queued jobs survive a restart. */
  appendOnly: boolean;
  /** Where it writes its pid, so a later start can find one left running. */
  pidFile?: string;
}

export function redisServerArgv(o: RedisServerOptions): string[] {
  return [
    'redis-server',
    '--port',
    '0',
    '--unixsocket',
    o.socket,
    '--unixsocketperm',
    '700',
    '--dir',
    o.dir,
    ...(o.pidFile === undefined ? [] : ['--pidfile', o.pidFile]),
    '--appendonly',
    o.appendOnly ? 'yes' : 'no',
    '--save',
    '',
    // The job queue's keys must never be evicted: an evicted key is a lost job.
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
  ];
}
