/**
 * A stage's /dev as OSBuild makes it (`osbuild/buildroot.py`): a tmpfs of the host mounted without
 * `nodev`, so that the nodes of loop devices made in it (by the loopback device, by remoteloop, by
 * a device module) open in the sandbox, which bwrap's own `--dev` (mounted `nodev`) does not allow.
 * It holds the character devices every program expects (full, null, random, urandom, tty, zero,
 * and fuse where the host has it) and, as bwrap's `--dev` gives them, the fd, stdin, stdout and
 * stderr links.
 *
 * OSBuild bind-mounts each character device; here each is a node made with the host's numbers,
 * which opens the same device and leaves one mount to release instead of seven. The tmpfs is
 * recorded in the resource registry before it is mounted, so a killed build's /dev is unmounted by
 * the next one, before its work directory is removed.
 */
import { chmodSync, existsSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type ResourceRegistry, unmount } from './crash-registry.ts';
import { splitDeviceNumber } from './devices/loop.ts';
import { EngineError, EngineErrorCode } from './errors.ts';
import { run } from './exec.ts';

const CHARACTER_DEVICES = ['full', 'null', 'random', 'urandom', 'tty', 'zero', 'fuse'];
const LINKS: [string, string][] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];

export interface DevDir {
  /** Unmounts the tmpfs (and every node in it) and drops its record; idempotent. */
  close(): Promise<void>;
}

/** Mounts the stage's /dev on the empty directory `dir`. */
export async function mountDevDir(
  dir: string,
  registry: ResourceRegistry,
  log: (line: string) => void,
): Promise<DevDir> {
  registry.addMount(dir);
  let closed = false;
  const close = async () => {
    if (closed) return;
    await unmount(dir, { log });
    registry.removeMount(dir);
    closed = true;
  };
  try {
    await run(['mount', '-t', 'tmpfs', '-o', 'nosuid,mode=0755', 'forge-dev', dir]);
    for (const name of CHARACTER_DEVICES) {
      const host = join('/dev', name);
      if (!existsSync(host)) continue;
      const st = statSync(host);
      if (!st.isCharacterDevice()) continue;
      const { major, minor } = splitDeviceNumber(st.rdev);
      await run(['mknod', join(dir, name), 'c', String(major), String(minor)]);
      chmodSync(join(dir, name), st.mode & 0o7777);
    }
    for (const [name, target] of LINKS) symlinkSync(target, join(dir, name));
  } catch (err) {
    await close().catch(() => {});
    throw new EngineError(
      EngineErrorCode.Mount,
      `cannot make the stage's /dev in ${dir}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return { close };
}
