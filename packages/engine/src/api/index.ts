/**
 * The host side of a stage's API (OSBuild's `API` and `LoopServer`, bound into the sandbox under
 * /run/osbuild/api): the `osbuild` socket, where a stage reports an exception (and, in older
 * stages, metadata), and `remoteloop`, where it asks for loop devices. Both speak OSBuild's
 * `jsoncomm` through one relay process per stage. Without a Python 3 on the host the stage runs
 * without them, as it did before they existed, and the log says so.
 */
import { join } from 'node:path';
import type { ResourceRegistry } from '../crash-registry.ts';
import { osbuildEndpoint } from './osbuild.ts';
import { relayInterpreter, startRelay } from './relay.ts';
import { remoteLoopEndpoint } from './remoteloop.ts';

export interface StageApiOptions {
  /** A directory of the stage's own, for the sockets. */
  dir: string;
  metaFile: string;
  /** Sandbox directory → host directory, where files given to remoteloop may lie. */
  places: [string, string][];
  registry: ResourceRegistry;
  log(line: string): void;
}

export interface StageApi {
  /** Host socket → sandbox path, to bind into the sandbox. */
  binds: [string, string][];
  /** The stage's error, as OSBuild reports it, or null. */
  error(): unknown;
  /** Ends the relay after reading what the stage left: `error()` is final then. Idempotent. */
  stop(): Promise<void>;
  /** Stops, and releases the loop devices the stage asked for. */
  close(): Promise<void>;
}

export async function openStageApi(opts: StageApiOptions): Promise<StageApi> {
  const python = relayInterpreter();
  if (!python) {
    opts.log('no python3 on the host: the stage runs without /run/osbuild/api/osbuild and remoteloop');
    return { binds: [], error: () => null, stop: async () => {}, close: async () => {} };
  }
  const osbuild = osbuildEndpoint(opts.metaFile, opts.log);
  const remoteloop = remoteLoopEndpoint(opts);
  const endpoints = [osbuild, remoteloop];
  const relay = await startRelay(python, opts.dir, endpoints, opts.log);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= relay.stop();
    return stopping;
  };
  return {
    binds: endpoints.map((e) => [join(opts.dir, e.name), `/run/osbuild/api/${e.name}`]),
    error: () => osbuild.error(),
    stop,
    async close() {
      try {
        await stop();
      } finally {
        await remoteloop.close();
      }
    },
  };
}
