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
import { type AppDeps, buildApp } from './app.ts';
import { type ApiConfig, defaultConfig } from './config.ts';
import { ComposeEvents } from './events.ts';

export interface TestApi {
  app: FastifyInstance;
  deps: AppDeps;
  store: Store;
  queue: ForgeQueue;
  redis: TestRedis;
  config: ApiConfig;
  dir: string;
}

/**
 * Builds the app for one test; `config` overrides the defaults (no socket, no TCP, no tokens), or
 * computes overrides from the test's directory.
 */
export async function startTestApi(
  t: TestContext,
  config: Partial<ApiConfig> | ((dir: string) => Partial<ApiConfig>) = {},
): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-api-'));
  const redis = await startRedis();
  const store = openStore(join(dir, 'forge.sqlite'));
  const queue = new ForgeQueue({ redis: redis.options, queueName: `test-${randomUUID()}` });
  await queue.ready();
  const overrides = typeof config === 'function' ? config(dir) : config;
  const cfg = defaultConfig(dir, { socket: undefined, ...overrides });
  const deps: AppDeps = { config: cfg, store, queue, events: new ComposeEvents() };
  const app = await buildApp(deps);
  t.after(async () => {
    await app.close();
    await queue.close();
    store.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, deps, store, queue, redis, config: cfg, dir };
}
