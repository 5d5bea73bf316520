/**
 * The `remoteloop` endpoint (OSBuild's `osbuild/remoteloop.py`, `LoopServer`): a stage sends the
 * descriptor of a file (`fd`) and of its /dev (`dir_fd`), with `offset`, `sizelimit`,
 * `sector_size`, `read_only`, `partscan` and `lock` as it likes; the host binds a loop device to
 * the file, creates its node in that /dev and answers `{devname}`. A failure is answered with an
 * `exception` message, as OSBuild answers one, which its client raises.
 *
 * Unlike OSBuild, the file must be one the host can name: in the tree, /var or a mount of the
 * stage (the sandbox path the kernel shows for the descriptor, mapped back to the host and checked
 * to be the same inode). The loop device is then recorded in the resource registry like the
 * engine's own devices, so a killed build's devices are released by the next one; `close()`
 * releases them at the end of the stage. The node is made in the stage's /dev (dev-dir.ts), a
 * tmpfs that allows device nodes, where the stage opens it.
 */
import { readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pyRepr } from '@debian-forge/manifest';
import type { ResourceRegistry } from '../crash-registry.ts';
import { attachLoop, detachLoop, type LoopDevice } from '../devices/loop.ts';
import { run } from '../exec.ts';
import type { Datagram, Endpoint } from './relay.ts';

export interface RemoteLoopContext {
  /** Sandbox directory → host directory, for the places a backing file may lie. */
  places: [string, string][];
  registry: ResourceRegistry;
  log(line: string): void;
}

export interface RemoteLoopEndpoint extends Endpoint {
  /** Detaches every loop device this stage asked for. */
  close(): Promise<void>;
}

class RequestError extends Error {}

function count(msg: Record<string, unknown>, key: string, fallback: number): number {
  const value = msg[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new RequestError(`${key} must be a non-negative integer, got ${pyRepr(value)}`);
  return value;
}

function flag(msg: Record<string, unknown>, key: string): boolean {
  const value = msg[key] ?? false;
  if (typeof value !== 'boolean')
    throw new RequestError(`${key} must be true or false, got ${pyRepr(value)}`);
  return value;
}

/** The host path of the file behind `fd` (a /proc/<pid>/fd/<n> path), if it lies in one of `places`. */
function hostPath(fd: string, places: [string, string][]): string {
  const seen = readlinkSync(fd);
  const place = places.find(([inSandbox]) => seen.startsWith(`${inSandbox}/`));
  if (!place)
    throw new RequestError(
      `${seen} is not in ${places.map(([p]) => p).join(', ')}, where the host can reach it`,
    );
  const path = join(place[1], seen.slice(place[0].length + 1));
  const [a, b] = [statSync(fd), statSync(path)];
  if (!a.isFile() || a.ino !== b.ino || a.dev !== b.dev)
    throw new RequestError(`${seen} is not a regular file of the stage`);
  return path;
}

export function remoteLoopEndpoint(ctx: RemoteLoopContext): RemoteLoopEndpoint {
  const loops: LoopDevice[] = [];

  async function request(msg: Record<string, unknown>, fds: string[]): Promise<{ devname: string }> {
    const file = fds[msg.fd as number];
    const dir = fds[msg.dir_fd as number];
    if (typeof msg.fd !== 'number' || typeof msg.dir_fd !== 'number' || !file || !dir)
      throw new RequestError('fd and dir_fd must name descriptors sent with the request');
    if (!statSync(dir).isDirectory()) throw new RequestError('dir_fd is not a directory');
    const backing = hostPath(file, ctx.places);
    const sectorSize = count(msg, 'sector_size', 512);
    const loop = await attachLoop(backing, {
      offset: count(msg, 'offset', 0),
      sizelimit: count(msg, 'sizelimit', 0),
      sectorSize,
      readOnly: flag(msg, 'read_only'),
      partscan: flag(msg, 'partscan'),
      registry: ctx.registry,
      label: 'remoteloop',
    });
    loops.push(loop);
    flag(msg, 'lock'); // OSBuild's udev inhibitor: no udev runs on the build host's loop devices
    const { major, minor } = loop.node;
    await run(['mknod', '--mode=0600', join(dir, loop.relpath), 'b', String(major), String(minor)]);
    ctx.log(`remoteloop: ${loop.path} acquired for ${backing}`);
    return { devname: loop.relpath };
  }

  return {
    name: 'remoteloop',
    async handle({ text, fds }: Datagram) {
      try {
        const msg: unknown = JSON.parse(text);
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
          throw new RequestError('the request is not a JSON object');
        return await request(msg as Record<string, unknown>, fds);
      } catch (err) {
        const value = err instanceof Error ? err.message : String(err);
        ctx.log(`remoteloop: ${value}`);
        return {
          method: 'exception',
          exception: {
            type: err instanceof RequestError ? 'ValueError' : 'RuntimeError',
            value,
            traceback: '',
          },
        };
      }
    },
    async close() {
      let first: unknown;
      for (const loop of loops.splice(0).reverse()) {
        try {
          await detachLoop(loop, ctx.registry, { log: ctx.log });
          ctx.log(`remoteloop: ${loop.path} released`);
        } catch (err) {
          ctx.log(`remoteloop: ${(err as Error).message}`);
          first ??= err;
        }
      }
      if (first) throw first;
    },
  };
}
