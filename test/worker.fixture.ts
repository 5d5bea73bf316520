/**
 * Shared by the worker and service tests: an API on a unix socket and TCP (real SQLite, Redis, the
 * compose service and lifecycle), workers running the real `forge build` in-process or as separate
 * processes, tiny manifests, and waiting for compose states.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Listening, listen } from '@debian-forge/api';
import { startTestApi, type TestApi, type TestApiOptions } from '@debian-forge/api/testing';
import type { ComposeState } from '@debian-forge/store';
import { type RunningWorker, startWorker, type WorkerOptions } from '@debian-forge/worker';
import { pino } from 'pino';
import { FORGE, REPO } from './engine.fixture.ts';

export const TOKEN = 'worker-test-token';

/** Timings short enough for tests; the API's stalled-job supervisor uses the same. */
export const FAST = { lockDurationMs: 3000, stalledIntervalMs: 1000, pollIntervalMs: 100, cancelPollMs: 200 };

export const hello = (text: string) => Buffer.from(`${text}\n`);
const sumOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A tree with one file `/hello` from an inline source; the artifact is that file. */
export function helloManifest(text: string) {
  const data = hello(text);
  const sum = sumOf(data);
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        'source-epoch': 1700000000,
        stages: [
          { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/etc', mode: 0o755 }] } },
          {
            type: 'org.osbuild.copy',
            inputs: { src: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [sum] } },
            options: { paths: [{ from: `input://src/${sum}`, to: 'tree:///hello' }] },
          },
        ],
      },
    ],
    sources: {
      'org.osbuild.inline': { items: { [sum]: { encoding: 'base64', data: data.toString('base64') } } },
    },
  };
}

/** A one-stage pipeline whose test probe stage does what `probe` says (sleep, print, exit …). */
export function probeManifest(probe: Record<string, unknown>) {
  return {
    version: '2',
    pipelines: [{ name: 'tree', stages: [{ type: 'org.forge.test.probe', options: probe }] }],
  };
}

/** truncate → mkfs.ext4 (a loop device) → the probe stage with that file system mounted. */
export function diskManifest(probe: Record<string, unknown>) {
  const loop = { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } };
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        stages: [
          { type: 'org.osbuild.truncate', options: { filename: 'disk.img', size: '16M' } },
          {
            type: 'org.osbuild.mkfs.ext4',
            options: { uuid: 'a5a4d1a8-5a8e-4c3e-9f43-1d7b0e6f0c12' },
            devices: { device: loop },
          },
          {
            type: 'org.forge.test.probe',
            options: probe,
            devices: { disk: loop },
            mounts: [{ name: 'root', type: 'org.osbuild.ext4', source: 'disk', target: '/' }],
          },
        ],
      },
    ],
  };
}

export interface ServiceUnderTest {
  api: TestApi;
  listening: Listening;
}

/** The API with the compose service and lifecycle, listening on a unix socket and TCP (with TOKEN). */
export async function startApi(t: TestContext, options: TestApiOptions = {}): Promise<ServiceUnderTest> {
  const api = await startTestApi(
    t,
    (dir) => ({
      socket: { path: join(dir, 'api.socket'), mode: 0o600 },
      tcp: { host: '127.0.0.1', port: 0 },
      tokens: [TOKEN],
    }),
    { ...options, lifecycle: options.lifecycle ?? FAST },
  );
  const listening = await listen(api.app, api.config);
  return { api, listening };
}

/** A worker in this process, closed (its builds cancelled) when the API closes. */
export async function inProcessWorker(
  service: ServiceUnderTest,
  options: Partial<WorkerOptions> & Pick<WorkerOptions, 'stateDir'>,
): Promise<RunningWorker> {
  const { api, listening } = service;
  const worker = await startWorker({
    redis: api.redis.options,
    queueName: api.queue.queueName,
    api: { socket: listening.socket as string },
    resources: { cpus: 2, memoryMiB: 4096, diskGiB: 100 },
    forgeCommand: [process.execPath, FORGE],
    ...FAST,
    logger: pino({ enabled: false }),
    ...options,
  });
  api.onClose(() => worker.close(true));
  return worker;
}

/** A worker as a process of its own (test/worker-main.ts), ready when it says so. */
export async function workerProcess(
  service: ServiceUnderTest,
  options: Partial<WorkerOptions> & Pick<WorkerOptions, 'stateDir'>,
): Promise<{ child: ChildProcess; name: string }> {
  const { api, listening } = service;
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/worker-main.ts')], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      REDIS_URL: api.redis.url,
      FORGE_API_URL: listening.url,
      FORGE_API_TOKEN: TOKEN,
      FORGE_WORK_DIR: options.stateDir,
      FORGE_QUEUE_NAME: api.queue.queueName,
      FORGE_TEST_WORKER_OPTIONS: JSON.stringify({ ...FAST, ...options }),
    },
  });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  api.onClose(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const name = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}):\n${output}`)));
  });
  return { child, name };
}

/** Resolves with the compose once it is in `state`; rejects when it ends in another one or times out. */
export async function waitForState(api: TestApi, uuid: string, state: ComposeState, ms = 60_000) {
  const until = Date.now() + ms;
  for (;;) {
    const compose = api.store.composes.get(uuid);
    if (compose?.state === state) return compose;
    if (compose && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(compose.state)) {
      throw new Error(
        `compose ${uuid} ended ${compose.state} (${JSON.stringify(compose.error)}), not ${state}`,
      );
    }
    if (Date.now() > until)
      throw new Error(`compose ${uuid} is ${compose?.state}, not ${state}, after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 30_000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes whose command line mentions `dir` (a build's bwrap and forge name their directories). */
export function processesMentioning(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir) && Number(pid) !== process.pid) found.push(`${pid}: ${cmd.slice(0, 200)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The job directories a worker with state directory `stateDir` has now (its own work directory's entries). */
export function jobDirectories(stateDir: string): string[] {
  const root = join(stateDir, 'work');
  return readdirSync(root).flatMap((owner) => readdirSync(join(root, owner)).map((job) => `${owner}/${job}`));
}

/** Resolves when a build of the API's composes logs `line` (e.g. the probe stage's `sleeping`). */
export function logLine(api: TestApi, line: string, ms = 60_000): Promise<void> {
  let seen = false;
  const stop = api.deps.events.subscribe((e) => {
    if (e.type === 'log' && e.line === line) seen = true;
  });
  return waitUntil(`log line ${line}`, () => seen, ms).finally(stop);
}
