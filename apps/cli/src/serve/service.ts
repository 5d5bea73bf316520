/**
 * The whole service in one process, as `forge serve` runs it: SQLite and artifacts in the state
 * directory, Redis (REDIS_URL, or a private redis-server there), the API with the compose
 * lifecycle, its listeners, and N workers that reach the API over its unix socket. `close()` takes
 * it down in the reverse order. The benchmark and tests start it in-process the same way.
 *
 * Redis going away is logged once (a warning, and an info when it is back), for the queue and the
 * in-process worker alike; the private Redis is restarted by its supervisor (redis.ts) until the
 * service closes; every wait for Redis in `close()` is bounded, so a stop takes seconds.
 */

import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  type ApiConfig,
  type AppDeps,
  buildApp,
  ComposeEvents,
  createComposeService,
  createOstreeRepo,
  DEFAULT_BODY_LIMIT,
  type Listening,
  listen,
  startComposeLifecycle,
} from '@debian-forge/api';
import { type CacheSize, EngineIndex } from '@debian-forge/engine';
import { LibdirIndex } from '@debian-forge/manifest';
import { ForgeQueue, type RedisState, type RedisTlsFiles, redisOptionsFromUrl } from '@debian-forge/queue';
import { DEFAULT_LIBDIR } from '@debian-forge/stages/location';
import { describeRepair, openStore } from '@debian-forge/store';
import { type RunningWorker, startWorker } from '@debian-forge/worker';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FORGE_SELF } from '../self.ts';
import { listenError, ServiceError } from './errors.ts';
import { type PrivateRedis, startPrivateRedis } from './redis.ts';
import { claimStateDir, privateFile, type StateDirClaim } from './state-dir.ts';
import { defaultWebRoot } from './web-root.ts';

export interface ServiceOptions {
  stateDir: string;
  /**
   * `stateDir` claimed already (`forge serve` claims it before it reads the token file there); the
   * service releases it when it closes. Without it the service claims the directory itself.
   */
  claim?: StateDirClaim;
  /** The deployment's Redis; without it a private redis-server runs in `<stateDir>/redis`. */
  redisUrl?: string;
  /** With a `rediss://` URL: the CA, and a client certificate and key, as files. */
  redisTls?: RedisTlsFiles;
  /** The unix socket (mode 0660 unless given); `null` for none. Default `<stateDir>/api.socket`. */
  socket?: { path: string; mode?: number; group?: string } | null;
  /** A unix socket serving the Cloud API only (mode 0660 unless given); none by default. */
  cloudSocket?: { path: string; mode?: number; group?: string };
  /** TCP listener; needs `tokens`. */
  tcp?: { host: string; port: number } | null;
  tokens: readonly string[] | null;
  /**
   * Builds at the same time in this process (0: the API only). They are one queue worker with that
   * many slots, so they share one object store (`<stateDir>/store`, as `forge compose` uses) and one
   * work directory, which separate workers starting side by side would clean under each other.
   */
  workers: number;
  version: string;
  logger?: Logger;
  /** Queue name within the Redis prefix (tests sharing one Redis use their own). */
  queueName?: string;
  bodyLimit?: number;
  /** On close, wait for running builds instead of cancelling them. */
  drain?: boolean;
  /** How long Weldr's compose start waits for the manifest (the compose service's default without). */
  planWaitSeconds?: number;
  /** The largest image size in bytes a compose may ask for (the compose service's default without). */
  maxImageSize?: number;
  /** Manifests without a build pipeline: the workers build with the host's tools. */
  hostBuildRoot?: boolean;
  /** Directories blueprints' source package paths may lie in (none without: no paths). */
  sourceDirs?: string[];
  /** Bound of the workers' object store (the worker's default without: what it records, else 20 GiB). */
  cacheMaxSize?: CacheSize;
  /** The built web UI served at `/` (default: the web package's dist/web). */
  webRoot?: string;
  /**
   * Stages and runners the workers build with (default forge's): raw manifests are checked against
   * it, and this process's workers use it, as `forge worker` does with FORGE_LIBDIR.
   */
  libdir?: string;
}

export interface Service {
  config: ApiConfig;
  deps: AppDeps;
  app: FastifyInstance;
  listening: Listening;
  /** Where Redis is: the given URL, or the private server's `unix://` URL. */
  redisUrl: string;
  privateRedis?: PrivateRedis;
  /** The worker of this process, when `workers` > 0. */
  worker?: RunningWorker;
  close(): Promise<void>;
}

/** Whether something accepts connections on the unix socket `path` (another `forge serve`). */
export function socketAnswers(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = connect({ path });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Runs `steps` in order, all of them even when some fail; throws the first failure. */
async function closeAll(steps: (() => Promise<unknown> | unknown)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** One line for Redis going away and one for its return (the queue reports changes only). */
function redisReporter(warn: (line: string) => void, info: (line: string) => void) {
  let downSince = 0;
  return (state: RedisState) => {
    if (!state.reachable) {
      downSince = state.since;
      warn(
        `Redis is unreachable (${state.error ?? 'no answer'}): composes cannot be queued or cancelled until it is back`,
      );
    } else {
      info(`Redis is reachable again after ${((state.since - downSince) / 1000).toFixed(1)} s`);
    }
  };
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { stateDir } = options;
  // Without a logger (in-process uses) the service's own lines go to standard error.
  const warn = (line: string) =>
    options.logger ? options.logger.warn(line) : process.stderr.write(`forge serve: ${line}\n`);
  const info = (line: string) =>
    options.logger ? options.logger.info(line) : process.stderr.write(`forge serve: ${line}\n`);
  const socketPath =
    options.socket === null ? undefined : (options.socket?.path ?? join(stateDir, 'api.socket'));
  // Before anything else touches the directory; released last.
  const unixSockets = [
    ...(socketPath === undefined ? [] : [{ path: socketPath, group: options.socket?.group }]),
    ...(options.cloudSocket ? [options.cloudSocket] : []),
  ];
  const claim = options.claim ?? (await claimStateDir(stateDir, unixSockets));
  const cleanup: (() => Promise<unknown> | unknown)[] = [() => claim.release()];
  let closing: Promise<void> | undefined;
  // Once, in the reverse order of start-up; a second call waits for the first.
  const undo = () => {
    closing ??= closeAll([...cleanup].reverse());
    return closing;
  };
  try {
    // Another service with another state directory may listen on the same socket path.
    for (const { path } of unixSockets) {
      if (await socketAnswers(path))
        throw new ServiceError(`another forge serve is running: ${path} answers`);
    }
    let privateRedis: PrivateRedis | undefined;
    let redisUrl = options.redisUrl;
    if (redisUrl === undefined) {
      const redis = await startPrivateRedis(stateDir, { log: warn });
      privateRedis = redis;
      redisUrl = redis.url;
      cleanup.push(() => redis.stop());
    }
    // Made 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database's mode.
    const store = openStore(privateFile(join(stateDir, 'state.sqlite')));
    cleanup.push(() => store.close());
    for (const repair of store.repaired) options.logger?.warn(describeRepair(repair));
    const queue = new ForgeQueue({
      redis: redisOptionsFromUrl(redisUrl, options.redisTls),
      queueName: options.queueName,
    });
    cleanup.push(() => queue.close());
    await queue.ready();
    queue.on('redis', redisReporter(warn, info));

    const socket =
      socketPath === undefined
        ? undefined
        : {
            path: socketPath,
            mode: options.socket?.mode ?? 0o660,
            ...(options.socket?.group !== undefined ? { group: options.socket.group } : {}),
          };
    const { cloudSocket } = options;
    const config: ApiConfig = {
      stateDir,
      artifactsDir: join(stateDir, 'artifacts'),
      socket,
      ...(cloudSocket ? { cloudSocket: { ...cloudSocket, mode: cloudSocket.mode ?? 0o660 } } : {}),
      tcp: options.tcp ?? undefined,
      tokens: options.tokens,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      version: options.version,
      webRoot: options.webRoot ?? defaultWebRoot(),
    };
    mkdirSync(config.artifactsDir, { recursive: true, mode: 0o700 });
    const events = new ComposeEvents();
    // Raw manifests (Forge API) are checked against the stages of the libdir the workers run.
    const libdir = options.libdir ?? DEFAULT_LIBDIR;
    const manifestIndex = new EngineIndex(new LibdirIndex(libdir, (m) => options.logger?.warn(m)));
    const ostree = createOstreeRepo({ stateDir, store, onError: warn });
    const composes = createComposeService(
      { config, store, queue, events, ostree },
      {
        manifestIndex,
        ...(options.planWaitSeconds === undefined ? {} : { planWaitSeconds: options.planWaitSeconds }),
        ...(options.maxImageSize === undefined ? {} : { maxImageSize: options.maxImageSize }),
        ...(options.hostBuildRoot ? { hostBuildRoot: true } : {}),
        ...(options.sourceDirs ? { sourceDirs: options.sourceDirs } : {}),
      },
    );
    cleanup.push(() => composes.pending());
    const deps: AppDeps = { config, store, queue, events, ostree, composes };
    const app = await buildApp(deps, { logger: options.logger ?? false });
    cleanup.push(() => app.close());
    const lifecycle = await startComposeLifecycle(
      { store, queue, events, composes, ostree },
      // Without a logger the lifecycle reports to standard error itself.
      options.logger ? { onError: (err) => options.logger?.error({ err }, 'compose lifecycle') } : {},
    );
    cleanup.push(() => lifecycle.stop());
    const listening = await listen(app, config).catch((err: unknown) => {
      throw listenError(err);
    });

    let worker: RunningWorker | undefined;
    if (options.workers > 0) {
      const target = listening.socket
        ? { socket: listening.socket }
        : { url: listening.url, token: options.tokens?.[0] };
      const started = await startWorker({
        redis: redisUrl,
        ...(options.redisTls ? { redisTls: options.redisTls } : {}),
        queueName: options.queueName,
        api: target,
        stateDir,
        maxJobs: options.workers,
        ...(options.libdir === undefined ? {} : { libdir: options.libdir }),
        ...(options.cacheMaxSize === undefined ? {} : { cacheMaxSize: options.cacheMaxSize }),
        forgeCommand: FORGE_SELF,
        reportRedis: false, // the queue's report above speaks for this process
        ...(options.logger ? { logger: options.logger.child({ name: 'forge-worker' }) } : {}),
      });
      worker = started;
      // On stop the running builds are cancelled (their composes end CANCELLED), unless drained.
      cleanup.push(() => started.close(!options.drain));
    }

    return {
      config,
      deps,
      app,
      listening,
      redisUrl,
      privateRedis,
      ...(worker ? { worker } : {}),
      close: undo,
    };
  } catch (err) {
    await undo().catch(() => {});
    throw err;
  }
}
