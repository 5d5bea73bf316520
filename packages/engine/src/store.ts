/**
 * The object store, laid out as OSBuild's (`osbuild/objectstore.py`, `osbuild/util/fscache.py`):
 *
 *   STORE/cache.info           {"version": 1, "maximum-size": N | "unlimited"} (persisted)
 *   STORE/objects/<id>/data/{tree/, meta/}, object.info {"size", "created"}, object.lock
 *   STORE/sources/<content-type>/<checksum>
 *   STORE/stage/<owner>.uuid-*  write area of objects being built or committed
 *   STORE/tmp/<owner>.*         per-build temporary directories
 *
 * `<owner>` is the pid and start time of the build process (`1234-5678`), so what a build that
 * died left there is told from a live build's work exactly, even once its pid is reused
 * (`removeDeadWork`; the older form `<pid>.` counts as dead when no process has that pid).
 *
 * Objects built in this run are "floating" (kept in memory, not in the cache) unless a checkpoint
 * commits them. A commit copies the object to the write area and renames it into `objects/`, so a
 * reader never sees half an object; if the name exists already the copy is dropped (same id, same
 * content). Readers hold a shared lock on `object.lock` while they read; eviction takes it
 * exclusively without waiting, so an object in use is never evicted. A build holds every cached
 * object it found until it ends, so what it planned on (`depsolve`) is still there when it reads
 * it, though other builds sharing the store evict. The cache is bounded by `maximum-size` (default
 * 0: nothing is cached, as OSBuild), evicting least recently used objects.
 */
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { lutimes, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type HeldLock, ownStartTime, pidAlive, processAlive } from '@debian-forge/host';
import { EngineError, EngineErrorCode } from './errors.ts';
import { run } from './exec.ts';
import { lock, tryLock } from './lock.ts';

export type CacheSize = number | 'unlimited';

/** OSBuild's size syntax: a number of bytes, `N kB|KiB|MB|MiB|GB|GiB|TB|TiB`, or `unlimited`. */
export function parseSize(text: string): CacheSize {
  if (text === 'unlimited') return 'unlimited';
  const m = /^\s*(\d+)\s*(kB|KiB|MB|MiB|GB|GiB|TB|TiB)?$/.exec(text);
  if (!m) throw new EngineError(EngineErrorCode.Store, `invalid size value: '${text}'`);
  const units: Record<string, number> = {
    kB: 1e3,
    KiB: 1024,
    MB: 1e6,
    MiB: 1024 ** 2,
    GB: 1e9,
    GiB: 1024 ** 3,
    TB: 1e12,
    TiB: 1024 ** 4,
  };
  return Number(m[1]) * (m[2] ? (units[m[2]] as number) : 1);
}

/**
 * The bound of a store that records none, where this project keeps layers (`forge compose`, the
 * service's workers); OSBuild's own default, 0, would cache nothing.
 */
export const DEFAULT_CACHE_MAX_SIZE: CacheSize = 20 * 1024 ** 3;

/**
 * Records the cache bound of the store at `root` in its `cache.info`, as `--cache-max-size` does;
 * with `keep`, only when the store records none yet (the bound an operator set stays).
 */
export function recordMaximumSize(root: string, size: CacheSize, opts: { keep?: boolean } = {}): void {
  const info = join(root, 'cache.info');
  if (opts.keep && existsSync(info)) return;
  mkdirSync(root, { recursive: true });
  const tmp = join(root, `cache.info.${randomUUID()}`);
  writeFileSync(tmp, JSON.stringify({ version: 1, 'maximum-size': size }));
  renameSync(tmp, info);
}

/** An object being built: a directory with `tree/` and `meta/`, not yet in the cache. */
export class WorkObject {
  readonly path: string;
  /** Seconds since the epoch when the object was created; files newer than this get clamped. */
  readonly created: number;
  sourceEpoch: number | null = null;

  constructor(path: string) {
    this.path = path;
    mkdirSync(join(path, 'tree'), { recursive: true });
    mkdirSync(join(path, 'meta'), { recursive: true });
    this.created = Math.floor(Date.now() / 1000);
  }

  get tree(): string {
    return join(this.path, 'tree');
  }

  get metaDir(): string {
    return join(this.path, 'meta');
  }

  /** Sets every file and directory modified after this object was created to `source-epoch`. */
  async clampMtimes(): Promise<void> {
    if (this.sourceEpoch === null) return;
    await clampTree(this.tree, this.created, this.sourceEpoch);
  }
}

async function clampTree(dir: string, created: number, epoch: number): Promise<void> {
  const stack = [dir];
  const newer = (p: string) => lstatSync(p).mtimeMs / 1000 > created;
  const toClamp: string[] = [];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) stack.push(p);
      if (newer(p)) toClamp.push(p);
    }
  }
  // Directories last, deepest first, so clamping a file does not bump its directory again.
  for (const p of toClamp.reverse()) await clamp(p, epoch);
  if (newer(dir)) await clamp(dir, epoch);
}

/** Sets both times of `path`; as OSBuild, an immutable entry (an OSTree deployment) keeps its own. */
async function clamp(path: string, epoch: number): Promise<void> {
  try {
    await lutimes(path, epoch, epoch);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/** A cached object opened for reading; the shared lock keeps it from eviction until released. */
export interface StoredObject {
  id: string;
  path: string;
  tree: string;
  metaDir: string;
  release(): Promise<void>;
}

/** Something that holds a tree: a floating work object or a stored one. */
export type TreeObject = Pick<StoredObject, 'path' | 'tree' | 'metaDir'>;

export class ObjectStore {
  readonly root: string;
  readonly #floating = new Map<string, WorkObject>();
  /** Cached objects this run found, each locked against eviction until `close()`. */
  readonly #pinned = new Map<string, StoredObject>();
  readonly #work: string[] = [];

  private constructor(root: string) {
    this.root = root;
  }

  /** Opens (creating if needed) the store at `root`, removing work left by builds that died. */
  static async open(root: string): Promise<ObjectStore> {
    for (const d of ['objects', 'sources', 'stage', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    await removeDeadWork(root, { measure: false }); // nobody reads the figure here
    const tag = join(root, 'CACHEDIR.TAG');
    if (!existsSync(tag)) {
      writeFileSync(
        tag,
        'Signature: 8a477f597d28d172789f06886806bc55\n# a Debian Forge / OSBuild object store\n',
      );
    }
    return new ObjectStore(root);
  }

  get sourcesDir(): string {
    return join(this.root, 'sources');
  }

  get tmpDir(): string {
    return join(this.root, 'tmp');
  }

  get maximumSize(): CacheSize {
    try {
      const info = JSON.parse(readFileSync(join(this.root, 'cache.info'), 'utf8')) as {
        'maximum-size'?: CacheSize;
      };
      return info['maximum-size'] ?? 0;
    } catch {
      return 0;
    }
  }

  /** Whether the store records a maximum size of its own (`cache.info`). */
  get hasMaximumSize(): boolean {
    return existsSync(join(this.root, 'cache.info'));
  }

  set maximumSize(size: CacheSize) {
    recordMaximumSize(this.root, size);
  }

  /** A new temporary directory in the store, removed by `close()` if still there. */
  tempDir(prefix: string): string {
    const dir = join(this.tmpDir, `${owner()}.${prefix}${randomUUID()}`);
    mkdirSync(dir, { recursive: true });
    this.#work.push(dir);
    return dir;
  }

  /** A new object to build into, in the write area. */
  newObject(): WorkObject {
    const dir = join(this.root, 'stage', `${owner()}.uuid-${randomUUID()}`);
    this.#work.push(dir);
    return new WorkObject(dir);
  }

  /** Keeps a finished object of this run available under `id` (not cached). */
  setFloating(id: string, obj: WorkObject): void {
    this.#floating.set(id, obj);
  }

  /**
   * Whether `id` is available: built in this run, or in the cache and not being evicted. A cached
   * object found stays locked against eviction until `close()`: what a build planned on is there
   * when it reads it, whatever other builds sharing the store evict meanwhile.
   */
  async contains(id: string | null): Promise<boolean> {
    return id ? (await this.get(id)) !== undefined : false;
  }

  /** Whether the cache (not this run's floating objects) holds `id`. */
  async isCached(id: string): Promise<boolean> {
    const obj = await this.#open(id);
    if (!obj) return false;
    await obj.release();
    return true;
  }

  /**
   * The object with this id for reading, or undefined. A cached object stays locked against
   * eviction until `close()`.
   */
  async get(id: string): Promise<TreeObject | undefined> {
    const found = this.#floating.get(id) ?? this.#pinned.get(id);
    if (found) return found;
    const obj = await this.#open(id);
    if (obj) this.#pinned.set(id, obj);
    return obj;
  }

  async #open(id: string): Promise<StoredObject | undefined> {
    const dir = join(this.root, 'objects', id);
    const lockFile = join(dir, 'object.lock');
    const seen = inode(lockFile);
    if (seen === undefined || !existsSync(join(dir, 'data', 'tree'))) return undefined;
    let held: HeldLock | undefined;
    try {
      held = await tryLock(lockFile, 'shared');
    } catch (err) {
      // Evicted between the look and the lock: there was no directory to open the lock file in.
      if (inode(lockFile) !== seen) return undefined;
      throw err;
    }
    if (!held) return undefined;
    // The lock is on the file opened for it. Eviction renames the whole object away, never back; if
    // it did so before the lock was taken (and a build committed the id anew), the path names
    // another file now, and this lock would guard nothing.
    if (inode(lockFile) !== seen) {
      await held.release();
      return undefined;
    }
    const lockHeld = held;
    const now = new Date();
    try {
      utimesSync(lockFile, now, now);
    } catch {
      // the access time is only a hint for eviction
    }
    return storedObject(id, dir, async () => lockHeld.release());
  }

  /** Copies `base` (tree and metadata) into `obj`, as `cp -a --reflink=auto`. */
  async initFrom(obj: WorkObject, base: TreeObject): Promise<void> {
    await run(['cp', '-a', '--reflink=auto', `${base.path}/.`, `${obj.path}/`]);
  }

  /**
   * Stores a copy of `obj` in the cache as `id`, if the cache's maximum size allows; returns
   * whether it was stored. Least recently used objects are evicted to make room.
   *
   * With `move`, for an object no stage changes any more (after the last stage of its pipeline),
   * the object itself is renamed into the cache instead of copied (a copy of a Debian system's tree
   * takes seconds), and this run reads it from there, locked against eviction from before it
   * appears. Then the result says whether `obj` was moved: if so, it must not be used any more;
   * if not (the cache holds the id already, or has no room), it is where it was.
   */
  async commit(obj: WorkObject, id: string, move = false): Promise<boolean> {
    const max = this.maximumSize;
    if (max === 0) return false;
    const final = join(this.root, 'objects', id);
    if (existsSync(join(final, 'data', 'tree'))) return !move;
    await obj.clampMtimes();
    const staging = join(this.root, 'stage', `${owner()}.uuid-${randomUUID()}`);
    this.#work.push(staging);
    mkdirSync(staging);
    const data = join(staging, 'data');
    let size: number;
    if (move) {
      size = await diskUsage(obj.path);
      if (max !== 'unlimited' && size > max) return false;
      renameSync(obj.path, data);
    } else {
      await run(['cp', '-a', '--reflink=auto', `${obj.path}/.`, data]);
      size = await diskUsage(data);
      if (max !== 'unlimited' && size > max) {
        await rm(staging, { recursive: true, force: true });
        return false;
      }
    }
    writeFileSync(join(staging, 'object.info'), JSON.stringify({ size, created: obj.created }));
    writeFileSync(join(staging, 'object.lock'), '');
    // The lock is on the file, so it holds after the rename: nothing evicts what this run reads.
    const reading = move ? await lock(join(staging, 'object.lock'), 'shared') : undefined;
    const storeLock = await lock(join(this.root, 'cache.lock'), 'exclusive');
    try {
      if (max !== 'unlimited') await this.#makeRoom(max - size);
      try {
        renameSync(staging, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Another build committed the same id first; ids name content, so theirs is ours.
        if (move) {
          await reading?.release();
          renameSync(data, obj.path);
          return false;
        }
        await rm(staging, { recursive: true, force: true });
      }
    } catch (err) {
      await reading?.release();
      throw err;
    } finally {
      await storeLock.release();
    }
    if (reading)
      this.#pinned.set(
        id,
        storedObject(id, final, async () => reading.release()),
      );
    return true;
  }

  /** Evicts least recently used objects until the cache holds at most `budget` bytes. */
  async #makeRoom(budget: number): Promise<void> {
    const objects = this.#cachedObjects();
    let total = objects.reduce((n, o) => n + o.size, 0);
    for (const o of objects.sort((a, b) => a.used - b.used)) {
      if (total <= budget) return;
      const held = await tryLock(join(o.dir, 'object.lock'), 'exclusive');
      if (!held) continue;
      try {
        const trash = join(this.root, 'stage', `${owner()}.evict-${randomUUID()}`);
        renameSync(o.dir, trash);
        this.#work.push(trash);
        total -= o.size;
      } finally {
        await held.release();
      }
    }
  }

  #cachedObjects(): { dir: string; size: number; used: number }[] {
    const out: { dir: string; size: number; used: number }[] = [];
    for (const id of readdirSync(join(this.root, 'objects'))) {
      const dir = join(this.root, 'objects', id);
      try {
        const info = JSON.parse(readFileSync(join(dir, 'object.info'), 'utf8')) as { size: number };
        out.push({ dir, size: info.size, used: lstatSync(join(dir, 'object.lock')).mtimeMs });
      } catch {
        // an object without its info is not accounted (and not evicted)
      }
    }
    return out;
  }

  /** Total bytes held by cached objects. */
  cacheSize(): number {
    return this.#cachedObjects().reduce((n, o) => n + o.size, 0);
  }

  /**
   * Copies an object's tree to `dest`, as OSBuild's export (`cp -a --reflink=auto`). With `move`, a
   * floating object of this run (the cache never holds it, nothing else reads it) whose tree holds
   * only files (an image) has them renamed into `dest` instead, and is gone from this run: the same
   * result without a copy of the image. A file rename refuses (another file system; an immutable or
   * append-only file, which a copy would not keep so) is copied.
   */
  async export(obj: TreeObject, dest: string, preserveOwner = true, move = false): Promise<void> {
    mkdirSync(dest, { recursive: true });
    const ids = [...this.#floating].filter(([, o]) => o === obj).map(([id]) => id);
    const entries = readdirSync(obj.tree, { withFileTypes: true });
    if (move && preserveOwner && ids.length > 0 && entries.every((e) => e.isFile())) {
      for (const id of ids) this.#floating.delete(id);
      const top = lstatSync(obj.tree);
      const left: string[] = [];
      for (const e of entries) {
        try {
          renameSync(join(obj.tree, e.name), join(dest, e.name));
        } catch {
          left.push(join(obj.tree, e.name));
        }
      }
      if (left.length > 0) await run(['cp', '-a', '--reflink=auto', ...left, `${dest}/`]);
      // dest as `cp -a` of the tree's "." leaves it
      chmodSync(dest, top.mode & 0o7777);
      chownSync(dest, top.uid, top.gid);
      utimesSync(dest, top.atime, top.mtime);
      return;
    }
    await run([
      'cp',
      '-a',
      '--reflink=auto',
      ...(preserveOwner ? [] : ['--no-preserve=ownership']),
      `${obj.tree}/.`,
      `${dest}/`,
    ]);
  }

  /**
   * Releases every lock and removes this run's work directories and floating objects. Removal
   * never crosses into another file system, so a mount left behind by a failure is not emptied.
   */
  async close(): Promise<void> {
    for (const obj of this.#pinned.values()) await obj.release();
    this.#pinned.clear();
    this.#floating.clear();
    for (const dir of this.#work.splice(0)) {
      await removeTree(dir);
    }
  }
}

function storedObject(id: string, dir: string, release: () => Promise<void>): StoredObject {
  const path = join(dir, 'data');
  return { id, path, tree: join(path, 'tree'), metaDir: join(path, 'meta'), release };
}

/** The inode number of `path`, or undefined when there is nothing there. */
function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

let ownerTag: string | undefined;

/** This process as the owner of work directories: `<pid>-<start time>`. */
function owner(): string {
  ownerTag ??= `${process.pid}-${ownStartTime()}`;
  return ownerTag;
}

/** What `removeDeadWork` removed: paths relative to the store, and the bytes they held. */
export interface DeadWork {
  removed: string[];
  bytes: number;
}

/**
 * Removes what builds that died left in the store's `stage/` and `tmp/` (a build killed with
 * SIGKILL removes nothing itself): every directory whose owner process no longer runs. Work of a
 * live build, in this process or another sharing the store, is left alone. Mounts the dead build
 * left must be released first (`releaseDeadEngines`): removal never crosses into another file
 * system.
 */
export async function removeDeadWork(root: string, opts: { measure?: boolean } = {}): Promise<DeadWork> {
  const dead: string[] = [];
  for (const d of ['stage', 'tmp']) {
    let names: string[];
    try {
      names = readdirSync(join(root, d));
    } catch {
      continue; // no such area (yet)
    }
    for (const name of names) {
      const m = /^(\d+)(?:-(\d+))?\./.exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      const alive = m[2] === undefined ? pidAlive(pid) : processAlive(pid, m[2]);
      if (!alive) dead.push(join(d, name));
    }
  }
  if (dead.length === 0) return { removed: [], bytes: 0 };
  const paths = dead.map((p) => join(root, p));
  const bytes = opts.measure === false ? 0 : await diskUsage(...paths).catch(() => 0);
  for (const path of paths) await removeTree(path);
  return { removed: dead, bytes };
}

/**
 * Removes a work directory without crossing into another file system. `ostree admin deploy` marks
 * deployments immutable (chattr +i); when plain removal leaves something, the flag is cleared and
 * removal tried once more.
 */
async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await run(['rm', '-rf', '--one-file-system', dir], { okCodes: [1] });
  if (!existsSync(dir)) return;
  await run(['chattr', '-R', '-i', dir], { okCodes: [1] });
  await run(['rm', '-rf', '--one-file-system', dir], { okCodes: [1] });
}

/** Bytes the paths take on disk, together (`du --total`: a file linked twice counts once). */
async function diskUsage(...paths: string[]): Promise<number> {
  const { stdout } = await run(['du', '-s', '--total', '--block-size=1', ...paths]);
  return Number(stdout.trim().split('\n').pop()?.split(/\s/)[0]);
}
