/** Resource requests: what a job needs, what a worker has, whether one fits the other. */
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { JobType, Resources } from './contracts.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** What this machine has: CPUs, total memory, and the free space of the file system of `workDir`. */
export async function machineResources(workDir: string): Promise<Resources> {
  const fs = await statfs(workDir);
  return {
    cpus: Math.max(1, os.availableParallelism()),
    memoryMiB: Math.max(1, Math.floor(os.totalmem() / MiB)),
    diskGiB: Math.max(1, Math.floor((fs.bavail * fs.bsize) / GiB)),
  };
}

export function fits(request: Resources, available: Resources): boolean {
  return (
    request.cpus <= available.cpus &&
    request.memoryMiB <= available.memoryMiB &&
    request.diskGiB <= available.diskGiB
  );
}

export function subtract(a: Resources, b: Resources): Resources {
  return { cpus: a.cpus - b.cpus, memoryMiB: a.memoryMiB - b.memoryMiB, diskGiB: a.diskGiB - b.diskGiB };
}

/**
 * The BullMQ job name carries the type and the resource request (`build 4c 8192m 20g`), so a
 * worker can choose among waiting jobs by reading one short hash field per job instead of their
 * payloads.
 */
export function encodeJobName(type: JobType, r: Resources): string {
  return `${type} ${r.cpus}c ${r.memoryMiB}m ${r.diskGiB}g`;
}

export function decodeJobName(name: string): { type: string; resources: Resources } | undefined {
  const m = /^(\S+) (\d+)c (\d+)m (\d+)g$/.exec(name);
  if (!m) return undefined;
  return {
    type: m[1] as string,
    resources: { cpus: Number(m[2]), memoryMiB: Number(m[3]), diskGiB: Number(m[4]) },
  };
}
