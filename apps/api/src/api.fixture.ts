/**
 * A whole API for tests: a real SQLite database in a temporary directory, a real Redis (a private
 * redis-server on a unix socket) with a queue name of its own, and the Fastify app built on them.
 * Drive it with `api.app.inject(...)`, or `listen` it. Everything is closed and removed after the
 * test.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ForgeQueue } from '@debian-forge/queue';
import { startRedis, type TestRedis } from '@debian-forge/queue/testing';
import { openStore, type Store } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { type ApiConfig, defaultConfig } from './config.ts';
import type { AppDeps } from './deps.ts';
import { ComposeEvents } from './events.ts';
import { createComposeService } from './services/compose-service.ts';
import type { ComposeServiceForLifecycle, ComposeServiceOptions } from './services/composes.ts';
import { type Lifecycle, type LifecycleOptions, startComposeLifecycle } from './services/lifecycle.ts';
import { createOstreeRepo } from './services/ostree-repo.ts';

export interface TestApi {
  app: FastifyInstance;
  deps: AppDeps;
  store: Store;
  queue: ForgeQueue;
  redis: TestRedis;
  config: ApiConfig;
  dir: string;
  composes: ComposeServiceForLifecycle;
  /** Closes the app, the queue and the store now (a restart test); the cleanup then does the rest. */
  close(): Promise<void>;
  /** Runs `fn` first when the API closes (workers of the test, before their Redis goes). */
  onClose(fn: () => Promise<void>): void;
  /** The compose lifecycle, following the queue (absent with `lifecycle: false`). */
  lifecycle?: Lifecycle;
}

export interface TestApiOptions {
  /** Options of the compose service (a planner that needs no apt, resources …). */
  composes?: ComposeServiceOptions;
  /** Options of the lifecycle, or false to start none. */
  lifecycle?: LifecycleOptions | false;
  /** An existing state directory, SQLite database and Redis (a restart test); not removed. */
  reuse?: { dir: string; redis: TestRedis; queueName: string };
}

/**
 * Builds the app for one test; `config` overrides the defaults (no socket, no TCP, no tokens), or
 * computes overrides from the test's directory.
 */
export async function startTestApi(
  t: TestContext,
  config: Partial<ApiConfig> | ((dir: string) => Partial<ApiConfig>) = {},
  options: TestApiOptions = {},
): Promise<TestApi> {
  const reuse = options.reuse;
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'forge-api-'));
  const redis = reuse?.redis ?? (await startRedis());
  const store = openStore(join(dir, 'forge.sqlite'));
  const queue = new ForgeQueue({
    redis: redis.options,
    queueName: reuse?.queueName ?? `test-${randomUUID()}`,
  });
  await queue.ready();
  const overrides = typeof config === 'function' ? config(dir) : config;
  const cfg = defaultConfig(dir, { socket: undefined, ...overrides });
  const events = new ComposeEvents();
  const ostree = createOstreeRepo({
    stateDir: dir,
    store,
    onError: (message) => process.stderr.write(`test api: ${message}\n`),
  });
  const composes = createComposeService({ config: cfg, store, queue, events, ostree }, options.composes);
  const deps: AppDeps = { config: cfg, store, queue, events, ostree, composes };
  const app = await buildApp(deps);
  const lifecycle =
    options.lifecycle === false
      ? undefined
      : await startComposeLifecycle({ store, queue, events, composes, ostree }, options.lifecycle);
  let closed = false;
  const first: (() => Promise<void>)[] = [];
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const fn of first) await fn();
    await app.close();
    await composes.pending();
    await lifecycle?.stop();
    await ostree.idle();
    await queue.close();
    store.close();
  };
  t.after(async () => {
    await close();
    if (reuse) return;
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    app,
    deps,
    store,
    queue,
    redis,
    config: cfg,
    dir,
    composes,
    close,
    onClose: (fn) => first.push(fn),
    ...(lifecycle ? { lifecycle } : {}),
  };
}
