import { QueueError } from '@debian-forge/queue';
import {
  type RunningWorker,
  startWorker,
  WorkerError,
  type WorkerOptions,
  workerOptionsFromEnv,
} from '@debian-forge/worker';
import { pino } from 'pino';
import { type Command, UsageError } from '../command.ts';
import { FORGE_SELF } from '../self.ts';
import { REDIS_TLS_ENV, REDIS_TLS_FLAGS, REDIS_URL_HELP } from '../serve/options.ts';
import { exitOnceStopped, waitForSignal } from '../serve/signals.ts';

export const workerCommand: Command = {
  name: 'worker',
  summary:
    'Run a build worker alone (configuration from flags, else the environment: REDIS_URL (redis://USER:PASSWORD@HOST:PORT, rediss:// for TLS), FORGE_REDIS_CA/CERT/KEY, FORGE_API_URL with FORGE_API_TOKEN or FORGE_API_SOCKET, FORGE_WORK_DIR, FORGE_WORKER_* as apps/worker/src/config.ts lists), for another machine than the API: it takes build jobs from Redis, runs `forge build` with the object store in the state directory, reports progress and log lines, and uploads the image to the API. SIGINT or SIGTERM cancels the running build (--drain waits for it).',
  args: [],
  flags: {
    redis: {
      type: 'string',
      metavar: 'URL',
      help: `the deployment's Redis, ${REDIS_URL_HELP} (default $REDIS_URL; required)`,
    },
    ...REDIS_TLS_FLAGS,
    'api-url': { type: 'string', metavar: 'URL', help: 'the API over TCP (default $FORGE_API_URL)' },
    'api-socket': {
      type: 'string',
      metavar: 'PATH',
      help: "the API's unix socket, on the same machine (default $FORGE_API_SOCKET)",
    },
    token: {
      type: 'string',
      metavar: 'TOKEN',
      help: 'bearer token for --api-url (default $FORGE_API_TOKEN)',
    },
    'state-dir': {
      type: 'string',
      metavar: 'DIR',
      help: 'object store and work directories (default $FORGE_WORK_DIR, else /var/lib/debian-forge/worker)',
    },
    name: {
      type: 'string',
      metavar: 'NAME',
      help: "name in the Forge API's worker list (default host name and pid)",
    },
    'max-jobs': {
      type: 'string',
      metavar: 'N',
      help: 'builds at the same time, within the resources (default 1)',
    },
    'cache-max-size': {
      type: 'string',
      metavar: 'SIZE',
      help: "bound of the object store's cache, as forge build --cache-max-size: bytes, N GiB …, or unlimited; least recently used layers go first (default what the store records, else 20 GiB)",
    },
    drain: {
      type: 'boolean',
      help: 'on SIGINT/SIGTERM wait for the running builds instead of cancelling them',
    },
    'log-level': { type: 'string', metavar: 'LEVEL', help: 'log level on standard error (default info)' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new UsageError(`unexpected arguments: ${ctx.positionals.join(' ')}`);
    const flag = (name: string) =>
      typeof ctx.flags[name] === 'string' ? (ctx.flags[name] as string) : undefined;
    // Flags stand for the environment variables of the same meaning, and win over them.
    const fromFlags: Record<string, string | undefined> = {
      REDIS_URL: flag('redis'),
      ...Object.fromEntries(Object.entries(REDIS_TLS_ENV).map(([name, env]) => [env, flag(name)])),
      FORGE_API_SOCKET: flag('api-socket'),
      FORGE_API_URL: flag('api-url'),
      FORGE_API_TOKEN: flag('token'),
      FORGE_WORK_DIR: flag('state-dir'),
      FORGE_WORKER_NAME: flag('name'),
      FORGE_WORKER_JOBS: flag('max-jobs'),
      FORGE_CACHE_MAX_SIZE: flag('cache-max-size'),
    };
    const env = { ...process.env };
    for (const [name, value] of Object.entries(fromFlags)) if (value !== undefined) env[name] = value;
    // A socket given on the command line beats a URL from the environment, and the reverse.
    if (fromFlags.FORGE_API_URL && !fromFlags.FORGE_API_SOCKET) delete env.FORGE_API_SOCKET;
    if (fromFlags.FORGE_API_SOCKET && !fromFlags.FORGE_API_URL) delete env.FORGE_API_URL;
    const logger = pino({ name: 'forge-worker', level: flag('log-level') ?? 'info' }, pino.destination(2));
    let worker: RunningWorker;
    let options: WorkerOptions;
    try {
      options = { ...workerOptionsFromEnv(env, { logger }), forgeCommand: FORGE_SELF };
      worker = await startWorker(options);
    } catch (err) {
      // Settings the user can fix (Redis refusing the password, a TLS file …): one line, no stack.
      if (err instanceof WorkerError || err instanceof QueueError) {
        ctx.io.stderr.write(`forge worker: ${err.message} [${err.code}]\n`);
        return 2;
      }
      throw err;
    }
    const out = (line: string) => ctx.io.stdout.write(`forge worker: ${line}\n`);
    const api = options.api.socket ?? options.api.url;
    out(
      `${worker.name} takes jobs from Redis, uploads images to ${api}, keeps its store in ${options.stateDir}`,
    );
    const signal = await waitForSignal(['SIGINT', 'SIGTERM'], () => process.exit(130));
    const drain = ctx.flags.drain === true;
    out(`${signal}: ${drain ? 'waiting for the running builds' : 'cancelling the running builds'}`);
    await worker.close(!drain);
    out('stopped');
    exitOnceStopped();
    return 0;
  },
};
