/**
 * A worker's configuration from the environment, for `forge worker` and containers:
 *   REDIS_URL                 the deployment's Redis (required): redis://USER:PASSWORD@HOST:PORT,
 *                             rediss://… for TLS, unix:///path
 *   FORGE_REDIS_CA            with rediss://: the CA of the server's certificate (default the system's)
 *   FORGE_REDIS_CERT, FORGE_REDIS_KEY   with rediss://: this worker's certificate and key, when Redis
 *                             asks for one (tls-auth-clients)
 *   FORGE_API_SOCKET          the API's unix socket, or
 *   FORGE_API_URL             the API's URL, with FORGE_API_TOKEN (a bearer token it accepts)
 *   FORGE_WORK_DIR            the worker's state directory (object store, job directories, rundir)
 *   FORGE_WORKER_NAME         name shown in the worker list (default host name and pid)
 *   FORGE_WORKER_CPUS, FORGE_WORKER_MEMORY_MIB, FORGE_WORKER_DISK_GIB   what it offers (default: the machine)
 *   FORGE_WORKER_JOBS         builds at the same time (default 1)
 *   FORGE_LIBDIR              stages and runners (default forge's)
 *   FORGE_CACHE_MAX_SIZE      bound of the object store, as forge build --cache-max-size (default
 *                             what the store records, else 20 GiB)
 *   FORGE_QUEUE_PREFIX, FORGE_QUEUE_NAME   where the queue is in Redis (defaults forge, jobs)
 * Values given by the caller (command-line flags) win over the environment.
 */
import { parseSize } from '@debian-forge/engine';
import { z } from 'zod';
import { WorkerError, WorkerErrorCode } from './errors.ts';
import type { WorkerOptions } from './worker.ts';

export const DEFAULT_WORK_DIR = '/var/lib/debian-forge/worker';

const positive = z
  .string()
  .regex(/^[1-9]\d*$/, 'a whole number above 0')
  .transform(Number);
const text = z.string().min(1);
const size = z.string().transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message, input: v });
    return z.NEVER;
  }
});

const envSchema = z.object({
  REDIS_URL: text.optional(),
  FORGE_REDIS_CA: text.optional(),
  FORGE_REDIS_CERT: text.optional(),
  FORGE_REDIS_KEY: text.optional(),
  FORGE_API_SOCKET: text.optional(),
  FORGE_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  FORGE_API_TOKEN: text.optional(),
  FORGE_WORK_DIR: text.optional(),
  FORGE_WORKER_NAME: text.optional(),
  FORGE_WORKER_CPUS: positive.optional(),
  FORGE_WORKER_MEMORY_MIB: positive.optional(),
  FORGE_WORKER_DISK_GIB: positive.optional(),
  FORGE_WORKER_JOBS: positive.optional(),
  FORGE_LIBDIR: text.optional(),
  FORGE_CACHE_MAX_SIZE: size.optional(),
  FORGE_QUEUE_PREFIX: text.optional(),
  FORGE_QUEUE_NAME: text.optional(),
});

/** Empty variables count as unset, as in most shells' `VAR=` idiom. */
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => Boolean(e[1])));
}

/** Everything but how to run `forge`, which the caller knows (`forge worker` passes its own). */
export function workerOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  overrides: Partial<WorkerOptions> = {},
): Omit<WorkerOptions, 'forgeCommand'> {
  const parsed = envSchema.safeParse(present(env));
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new WorkerError(WorkerErrorCode.CONFIG, what);
  }
  const e = parsed.data;
  const redis = overrides.redis ?? e.REDIS_URL;
  if (redis === undefined) throw new WorkerError(WorkerErrorCode.CONFIG, 'REDIS_URL is not set');
  const redisTls = overrides.redisTls ?? {
    ...(e.FORGE_REDIS_CA ? { ca: e.FORGE_REDIS_CA } : {}),
    ...(e.FORGE_REDIS_CERT ? { cert: e.FORGE_REDIS_CERT } : {}),
    ...(e.FORGE_REDIS_KEY ? { key: e.FORGE_REDIS_KEY } : {}),
  };
  const api = overrides.api ?? {
    ...(e.FORGE_API_SOCKET ? { socket: e.FORGE_API_SOCKET } : {}),
    ...(e.FORGE_API_URL ? { url: e.FORGE_API_URL } : {}),
    ...(e.FORGE_API_TOKEN ? { token: e.FORGE_API_TOKEN } : {}),
  };
  if (!api.socket && !api.url) {
    throw new WorkerError(WorkerErrorCode.CONFIG, 'set FORGE_API_SOCKET or FORGE_API_URL');
  }
  if (!api.socket && !api.token) {
    throw new WorkerError(
      WorkerErrorCode.CONFIG,
      'FORGE_API_URL needs FORGE_API_TOKEN (the API asks for it on TCP)',
    );
  }
  const resources = {
    ...(e.FORGE_WORKER_CPUS ? { cpus: e.FORGE_WORKER_CPUS } : {}),
    ...(e.FORGE_WORKER_MEMORY_MIB ? { memoryMiB: e.FORGE_WORKER_MEMORY_MIB } : {}),
    ...(e.FORGE_WORKER_DISK_GIB ? { diskGiB: e.FORGE_WORKER_DISK_GIB } : {}),
    ...overrides.resources,
  };
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...defined({
      prefix: e.FORGE_QUEUE_PREFIX,
      queueName: e.FORGE_QUEUE_NAME,
      name: e.FORGE_WORKER_NAME,
      maxJobs: e.FORGE_WORKER_JOBS,
      libdir: e.FORGE_LIBDIR,
      cacheMaxSize: e.FORGE_CACHE_MAX_SIZE,
    }),
    ...defined(overrides),
    redis,
    ...(Object.keys(redisTls).length > 0 ? { redisTls } : {}),
    api,
    stateDir: overrides.stateDir ?? e.FORGE_WORK_DIR ?? DEFAULT_WORK_DIR,
    resources,
  };
}
