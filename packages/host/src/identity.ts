/**
 * Processes as others can recognise them later, across pid reuse: a pid with its start time (field
 * 22 of /proc/<pid>/stat), and where it runs (host, boot, pid namespace). The engine names its
 * crash records and work directories by `<pid>-<start time>`; a worker announces its identity so a
 * service on the same machine can tell at once that it died.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { HostError, HostErrorCode } from './errors.ts';
import { pidAlive } from './process.ts';

/** Start time of a process (field 22 of /proc/<pid>/stat, clock ticks since boot), or undefined if it is gone. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain anything, spaces included.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  return fields[19];
}

/** The id of the running boot; records of another boot describe resources that no longer exist. */
export function currentBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** Whether process `pid` runs and is the one that started at `startTime` (not a reuse of its pid). */
export function processAlive(pid: number, startTime: string): boolean {
  return pidAlive(pid) && processStartTime(pid) === startTime;
}

/**
 * A process as others can recognise it later: where it runs (host name, boot, pid namespace), its
 * pid and its start time. A worker announces its own, so that a service on the same machine can
 * tell at once that it died (`processGone`), instead of waiting for its heartbeats to stop.
 */
export interface ProcessIdentity {
  host: string;
  bootId: string;
  /** `/proc/self/ns/pid` (`pid:[4026531836]`): pids mean the same process only within one. */
  pidNamespace: string;
  pid: number;
  startTime: string;
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'unknown';
  }
}

/** This process's identity (see ProcessIdentity). */
export function processIdentity(): ProcessIdentity {
  return {
    host: hostname(),
    bootId: currentBootId(),
    pidNamespace: pidNamespace(),
    pid: process.pid,
    startTime: ownStartTime(),
  };
}

/**
 * Whether the process `p` is known to have ended: true when it ran in this boot and pid namespace
 * (so its pid can be looked up here) and that pid no longer runs, or now belongs to a process that
 * started at another time. False when it runs, and also when it ran elsewhere (another machine,
 * container or boot): from here that cannot be told.
 */
export function processGone(p: ProcessIdentity): boolean {
  const here = p.bootId === currentBootId() && p.bootId !== 'unknown';
  const ns = pidNamespace();
  if (!here || ns === 'unknown' || p.pidNamespace !== ns) return false;
  return !processAlive(p.pid, p.startTime);
}

/** The start time of this process (`/proc/self/stat`), which with its pid names it for good. */
export function ownStartTime(): string {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined) {
    throw new HostError(HostErrorCode.Proc, 'cannot read the start time of this process from /proc');
  }
  return startTime;
}
