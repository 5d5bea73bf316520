/**
 * A crash-safe record of the loop devices and mounts an engine holds, so that none of them leaks,
 * not even when the engine is killed with SIGKILL.
 *
 * Each engine process writes `<rundir>/forge-resources/<pid>-<start time>.json` and rewrites it
 * atomically (temporary file, fsync, rename) on every change. Resources are recorded *before* they
 * are created (a loop device before `losetup` binds it, a mount point before `mount`), so a kill
 * between the two leaves a record of something that may not exist, never the other way round;
 * releasing is careful enough for that: a mount point is only unmounted while it is mounted, and a
 * loop device is only detached while it is still bound to the recorded file at the recorded offset.
 *
 * `ResourceRegistry.open` first releases what dead engines recorded. An engine counts as dead when
 * its pid no longer exists or now belongs to a process with another start time (pid reuse). Two
 * engines starting at once do not release the same record twice: a record is claimed by renaming
 * it to a name that carries the claimer's identity, and a claim whose claimer died is claimed anew.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { currentBootId, ownStartTime, processAlive } from '@debian-forge/host';
import { EngineError, EngineErrorCode } from './errors.ts';
import { run } from './exec.ts';

export const DEFAULT_RUNDIR = '/run/osbuild';
export const RESOURCES_DIRNAME = 'forge-resources';

export interface LoopEntry {
  kind: 'loop';
  /** Host path, e.g. `/dev/loop3`. */
  device: string;
  /** Absolute path of the backing file, symlinks resolved (as the kernel reports it). */
  backingFile: string;
  /** Offset into the backing file, in bytes. */
  offset: number;
}

export interface MountEntry {
  kind: 'mount';
  /** Absolute host path of the mount point. */
  target: string;
}

export type ResourceEntry = LoopEntry | MountEntry;

interface RecordFile {
  version: 1;
  pid: number;
  startTime: string;
  bootId: string;
  entries: ResourceEntry[];
}

type Log = (line: string) => void;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Decodes the octal escapes (`\040` …) of /proc/self/mountinfo. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** The mount points of this mount namespace, in mount order. */
export function mountPoints(): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const target = line.split(' ')[4];
    if (target) points.push(unescapeMountinfo(target));
  }
  return points;
}

export function isMountPoint(path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  return mountPoints().includes(real);
}

/**
 * Unmounts `target` if it is mounted: plain `umount` (optionally `--recursive`), retried while the
 * mount is busy, then a lazy unmount as the last resort. Returns false if it was not mounted.
 */
export async function unmount(
  target: string,
  opts: { log?: Log; recursive?: boolean; attempts?: number; delayMs?: number } = {},
): Promise<boolean> {
  const attempts = opts.attempts ?? 5;
  const delayMs = opts.delayMs ?? 200;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    if (!isMountPoint(target)) return i > 0;
    try {
      await run(['umount', ...(opts.recursive ? ['--recursive'] : []), target]);
      if (!isMountPoint(target)) return true;
    } catch (e) {
      lastError = e;
    }
    await sleep(delayMs);
  }
  if (!isMountPoint(target)) return true;
  opts.log?.(`${target} is busy; unmounting it lazily (${errorText(lastError)})`);
  await run(['umount', '--lazy', target]);
  return true;
}

export interface LoopStatus {
  device: string;
  backingFile: string;
  offset: number;
  sizelimit: number;
}

/** Every bound loop device, as `losetup --json --list` reports it. */
export async function listLoops(): Promise<LoopStatus[]> {
  const { stdout } = await run(['losetup', '--json', '--list']);
  if (!stdout.trim()) return [];
  const parsed = JSON.parse(stdout) as { loopdevices?: Record<string, unknown>[] };
  return (parsed.loopdevices ?? []).map((d) => ({
    device: String(d.name),
    backingFile: String(d['back-file'] ?? '').replace(/ \(deleted\)$/, ''),
    offset: Number(d.offset ?? 0),
    sizelimit: Number(d.sizelimit ?? 0),
  }));
}

/** The absolute path of `file` with symlinks resolved, as the kernel names a loop device's backing file. */
export function canonicalPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolve(file);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Releases recorded resources: mounts first, in reverse order, then loop devices in reverse order,
 * each loop device only if it is still bound to the recorded file at the recorded offset. Returns
 * the entries that could not be released.
 */
async function release(entries: readonly ResourceEntry[], log: Log): Promise<ResourceEntry[]> {
  const failed: ResourceEntry[] = [];
  for (const entry of [...entries].reverse()) {
    if (entry.kind !== 'mount') continue;
    try {
      if (await unmount(entry.target, { log })) log(`unmounted ${entry.target}`);
    } catch (e) {
      log(`could not unmount ${entry.target}: ${errorText(e)}`);
      failed.push(entry);
    }
  }
  const loops = [...entries].reverse().filter((e): e is LoopEntry => e.kind === 'loop');
  if (loops.length === 0) return failed;
  let bound: LoopStatus[];
  try {
    bound = await listLoops();
  } catch (e) {
    log(`could not list loop devices: ${errorText(e)}`);
    return [...failed, ...loops];
  }
  for (const entry of loops) {
    const now = bound.find((b) => b.device === entry.device);
    if (!now || now.backingFile !== entry.backingFile || now.offset !== entry.offset) continue;
    try {
      await run(['losetup', '--detach', entry.device]);
      log(`detached ${entry.device} (${entry.backingFile}, offset ${entry.offset})`);
    } catch (e) {
      log(`could not detach ${entry.device}: ${errorText(e)}`);
      failed.push(entry);
    }
  }
  return failed;
}

const RECORD_NAME = /^(\d+)-(\d+)(?:-\d+)?\.json(?:\.tmp|\.reaping-(\d+)-(\d+))?$/;

let registriesInThisProcess = 0;

export class ResourceRegistry {
  /** The record file of this registry. */
  readonly file: string;
  readonly #header: Omit<RecordFile, 'entries'>;
  readonly #log: Log;
  #entries: ResourceEntry[] = [];
  #closed = false;

  private constructor(file: string, header: Omit<RecordFile, 'entries'>, log: Log) {
    this.file = file;
    this.#header = header;
    this.#log = log;
  }

  /**
   * Creates the record of this process in `<rundir>/forge-resources`, after releasing what dead
   * engines recorded there.
   */
  static async open(rundir: string = DEFAULT_RUNDIR, opts: { log?: Log } = {}): Promise<ResourceRegistry> {
    const log = opts.log ?? (() => {});
    const dir = join(rundir, RESOURCES_DIRNAME);
    const startTime = ownStartTime();
    await releaseDeadEngines(rundir, { log });
    const n = registriesInThisProcess++;
    const base = `${process.pid}-${startTime}${n === 0 ? '' : `-${n}`}.json`;
    const registry = new ResourceRegistry(
      join(dir, base),
      { version: 1, pid: process.pid, startTime, bootId: currentBootId() },
      log,
    );
    registry.#persist();
    return registry;
  }

  /** What is recorded now, oldest first. */
  get entries(): readonly ResourceEntry[] {
    return this.#entries;
  }

  get closed(): boolean {
    return this.#closed;
  }

  addLoop(device: string, backingFile: string, offset: number): void {
    this.#ensureOpen();
    this.#entries.push({ kind: 'loop', device, backingFile: canonicalPath(backingFile), offset });
    this.#persist();
  }

  removeLoop(device: string): void {
    this.#remove((e) => e.kind === 'loop' && e.device === device);
  }

  addMount(target: string): void {
    this.#ensureOpen();
    this.#entries.push({ kind: 'mount', target: resolve(target) });
    this.#persist();
  }

  removeMount(target: string): void {
    const abs = resolve(target);
    this.#remove((e) => e.kind === 'mount' && e.target === abs);
  }

  /**
   * Releases everything still recorded (mounts, then loop devices, each in reverse order) and
   * removes the record file. Idempotent. If something cannot be released, it stays recorded and
   * the error says what; a later `close()` (or the next engine, once this one has exited) retries.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const failed = await release(this.#entries, this.#log);
    this.#entries = this.#entries.filter((e) => failed.includes(e));
    if (failed.length > 0) {
      this.#persist();
      const what = failed.map((e) => (e.kind === 'loop' ? e.device : e.target)).join(', ');
      const code = failed.some((e) => e.kind === 'mount') ? EngineErrorCode.Mount : EngineErrorCode.Device;
      throw new EngineError(code, `could not release ${what}`);
    }
    this.#closed = true;
    try {
      unlinkSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  #ensureOpen(): void {
    if (this.#closed)
      throw new EngineError(EngineErrorCode.Device, `resource registry ${this.file} is closed`);
  }

  #remove(match: (e: ResourceEntry) => boolean): void {
    if (this.#closed) return;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i] as ResourceEntry;
      if (match(entry)) {
        this.#entries.splice(i, 1);
        this.#persist();
        return;
      }
    }
  }

  #persist(): void {
    const record: RecordFile = { ...this.#header, entries: this.#entries };
    writeAtomically(this.file, `${JSON.stringify(record, null, 1)}\n`);
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Releases what dead engines recorded in `<rundir>/forge-resources` (as `ResourceRegistry.open`
 * does first), without opening a record of this process: for a supervisor, such as the worker,
 * after a build it ran has ended.
 */
export async function releaseDeadEngines(
  rundir: string = DEFAULT_RUNDIR,
  opts: { log?: Log } = {},
): Promise<void> {
  const dir = join(rundir, RESOURCES_DIRNAME);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await reapDead(dir, process.pid, ownStartTime(), opts.log ?? (() => {}));
}

/** Releases the records of dead engines found in `dir`. */
async function reapDead(dir: string, myPid: number, myStart: string, log: Log): Promise<void> {
  const bootId = currentBootId();
  for (const name of readdirSync(dir)) {
    const m = RECORD_NAME.exec(name);
    if (!m) continue;
    const [, pid, start, claimerPid, claimerStart] = m as unknown as [
      string,
      string,
      string,
      string?,
      string?,
    ];
    if (name.endsWith('.tmp')) {
      if (!processAlive(Number(pid), start)) removeQuietly(join(dir, name));
      continue;
    }
    const ownerPid = claimerPid ?? pid;
    const ownerStart = claimerStart ?? start;
    if (processAlive(Number(ownerPid), ownerStart)) continue;
    const base = name.replace(/\.reaping-\d+-\d+$/, '');
    const claimed = join(dir, `${base}.reaping-${myPid}-${myStart}`);
    try {
      renameSync(join(dir, name), claimed);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // another engine claimed it first
      throw e;
    }
    let record: RecordFile | undefined;
    try {
      record = JSON.parse(readFileSync(claimed, 'utf8')) as RecordFile;
    } catch (e) {
      log(`ignoring the unreadable resource record ${base}: ${errorText(e)}`);
    }
    if (record && record.bootId === bootId && Array.isArray(record.entries) && record.entries.length > 0) {
      log(`releasing what the dead engine ${pid} left behind (${base})`);
      await release(record.entries, log);
    }
    removeQuietly(claimed);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
