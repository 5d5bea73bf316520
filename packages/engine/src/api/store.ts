/**
 * The store API a libdir's input module is given (OSBuild's `StoreServer`, `osbuild/objectstore.py`;
 * the module connects to the socket named in its `map` call's `api.store`): `source` {name} answers
 * the directory of a source content type, `read-tree` {object-id} the tree of a built pipeline (or
 * `{path: null}`), `read-tree-at` {object-id, target, subtree} bind-mounts (read-only) a built tree
 * or a directory of it at `target`, which must lie in the stage's inputs directory, and `mkdtemp`
 * {prefix, suffix} makes a directory of the stage's own. Mounts are recorded in the resource
 * registry before they are made and released when the stage ends.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { checkName } from '@debian-forge/manifest';
import { type ResourceRegistry, unmount } from '../crash-registry.ts';
import { run } from '../exec.ts';
import { inside } from '../paths.ts';
import type { TreeObject } from '../store.ts';
import { type Datagram, type Endpoint, startRelay } from './relay.ts';

export interface StoreApiOptions {
  /** A short directory of the stage's own for the socket (its path goes to the module whole). */
  dir: string;
  /** STORE/sources. */
  sourcesDir: string;
  /** Where `read-tree-at` may mount: the stage's inputs directory. */
  inputsDir: string;
  /** Where `mkdtemp` makes its directories. */
  tmpDir: string;
  pipeline(id: string): Promise<TreeObject | undefined>;
  registry: ResourceRegistry;
  log(line: string): void;
}

export interface StoreApi {
  /** The socket's host path, for `api.store`. */
  socket: string;
  /** Stops the relay and unmounts what `read-tree-at` mounted, newest first. */
  close(): Promise<void>;
}

class StoreRequestError extends Error {}

function text(msg: Record<string, unknown>, key: string): string {
  const value = msg[key];
  if (typeof value !== 'string') throw new StoreRequestError(`${key} must be a string`);
  return value;
}

export async function openStoreApi(python: string, opts: StoreApiOptions): Promise<StoreApi> {
  const mounted: string[] = [];
  const fail = (message: string) => new StoreRequestError(message);
  const endpoint: Endpoint = {
    name: 'store',
    async handle({ text: datagram }: Datagram) {
      try {
        const msg = JSON.parse(datagram) as Record<string, unknown>;
        switch (msg.method) {
          case 'source': {
            const name = text(msg, 'name');
            checkName(name, 'source type');
            return { path: join(opts.sourcesDir, name) };
          }
          case 'read-tree': {
            const obj = await opts.pipeline(text(msg, 'object-id'));
            return { path: obj?.tree ?? null };
          }
          case 'read-tree-at': {
            const obj = await opts.pipeline(text(msg, 'object-id'));
            if (!obj) return { path: null };
            const target = text(msg, 'target');
            if (!target.startsWith(`${opts.inputsDir}/`))
              throw fail(`target ${target} is not in the stage's inputs ${opts.inputsDir}`);
            const at = inside(opts.inputsDir, target.slice(opts.inputsDir.length), { relative: true }, fail);
            const source = inside(obj.tree, text(msg, 'subtree'), { relative: true }, fail);
            opts.registry.addMount(at);
            try {
              await run(['mount', '--rbind', '--make-rprivate', '-o', 'ro', source, at]);
            } catch (err) {
              opts.registry.removeMount(at);
              throw err;
            }
            mounted.push(at);
            return { path: at };
          }
          case 'mkdtemp': {
            const prefix = typeof msg.prefix === 'string' ? msg.prefix : 'tmp';
            if (prefix.includes('/')) throw fail('prefix must not hold a /');
            return { path: mkdtempSync(join(opts.tmpDir, prefix)) };
          }
          default:
            throw fail(`unknown method ${JSON.stringify(msg.method)}`);
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        opts.log(`api store: ${message}`);
        return { error: message };
      }
    },
  };
  const relay = await startRelay(python, opts.dir, [endpoint], opts.log);
  return {
    socket: join(opts.dir, 'store'),
    async close() {
      let first: unknown;
      try {
        await relay.stop();
      } finally {
        for (const at of mounted.splice(0).reverse()) {
          try {
            await unmount(at, { log: opts.log, recursive: true });
            opts.registry.removeMount(at);
          } catch (err) {
            first ??= err;
          }
        }
      }
      if (first) throw first;
    },
  };
}
