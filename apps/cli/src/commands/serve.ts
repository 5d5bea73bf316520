import { DEFAULT_MAX_IMAGE_SIZE, DEFAULT_PLAN_WAIT_SECONDS } from '@debian-forge/api';
import { maskRedisUrl, QueueError } from '@debian-forge/queue';
import { deadWorkLine } from '@debian-forge/worker';
import { pino } from 'pino';
import { type Command, UsageError } from '../command.ts';
import { stateDirOf } from '../compose-request.ts';
import { ServiceError } from '../serve/errors.ts';
import {
  DEFAULT_LISTEN,
  parseCacheSize,
  parseCount,
  parseListen,
  parseSeconds,
  parseSize,
  parseSourceDirs,
  REDIS_TLS_ENV,
  REDIS_TLS_FLAGS,
  REDIS_URL_HELP,
} from '../serve/options.ts';
import { startService } from '../serve/service.ts';
import { exitOnceStopped, waitForSignal } from '../serve/signals.ts';
import { claimStateDir } from '../serve/state-dir.ts';
import { resolveTokens, splitTokens } from '../serve/tokens.ts';
import { VERSION } from '../version.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary:
    'Run the compose service: the Weldr API (composer-cli, cockpit-composer), the Cloud API subset and the Forge API, with SQLite and artifacts in the state directory, Redis ($REDIS_URL, else a private redis-server there) and build workers. Listens on a unix socket (no token; file mode and group decide) and on TCP (bearer tokens). SIGINT or SIGTERM stops it cleanly.',
  args: [],
  flags: {
    'state-dir': {
      type: 'string',
      metavar: 'DIR',
      help: 'database, artifacts, object store, private Redis (default $FORGE_STATE_DIR, else /var/lib/debian-forge as root, else ~/.cache/debian-forge)',
    },
    socket: {
      type: 'string',
      metavar: 'PATH',
      help: 'unix socket (default STATE-DIR/api.socket, mode 0660)',
    },
    'cloud-socket': {
      type: 'string',
      metavar: 'PATH',
      help: "a second unix socket serving only the Cloud API, where composer-cli looks for it (/run/cloudapi/api.socket); mode 0660 and --socket-group as --socket's (default none)",
    },
    'socket-group': {
      type: 'string',
      metavar: 'GROUP',
      help: 'group owning the unix sockets (a name in /etc/group, or a number); when a socket is in the state directory, that directory is made 0750 with this group so its members reach the socket',
    },
    listen: {
      type: 'string',
      metavar: 'HOST:PORT',
      help: `TCP address, or none (default ${DEFAULT_LISTEN})`,
    },
    token: {
      type: 'string',
      metavar: 'TOKEN',
      multiple: true,
      help: 'bearer token accepted on TCP (default $FORGE_API_TOKENS, else the one in STATE-DIR/api-token, made on first start)',
    },
    drain: {
      type: 'boolean',
      help: 'on SIGINT/SIGTERM wait for running builds instead of cancelling them',
    },
    workers: {
      type: 'string',
      metavar: 'N',
      help: 'builds at the same time in this process (one worker with N slots); 0 for the API only (default 1)',
    },
    'plan-wait': {
      type: 'string',
      metavar: 'SECONDS',
      help: `how long a Weldr compose start waits for its manifest (apt) to answer its errors at once; after that it answers the build_id and the manifest goes on being made (default ${DEFAULT_PLAN_WAIT_SECONDS}, under composer-cli's 240 s timeout)`,
    },
    'max-image-size': {
      type: 'string',
      metavar: 'SIZE',
      help: `the largest image a compose may ask for, in bytes or e.g. '1 TiB'; larger sizes are refused with a 400 (default ${DEFAULT_MAX_IMAGE_SIZE / 1024 ** 3} GiB: a build job asks a worker for twice the image size in free disk)`,
    },
    'host-buildroot': {
      type: 'boolean',
      help: "make manifests without a build pipeline: the workers build with the host's tools instead of the distro's pinned ones (default $FORGE_HOST_BUILDROOT=1, else off)",
    },
    'cache-max-size': {
      type: 'string',
      metavar: 'SIZE',
      help: "bound of the workers' object store (STATE-DIR/store, shared with forge compose), as forge build --cache-max-size: bytes, N GiB …, or unlimited; least recently used layers go first (default what the store records, else 20 GiB)",
    },
    'source-dir': {
      type: 'string',
      metavar: 'DIR',
      multiple: true,
      help: "a directory whose source trees and .dsc files blueprints' [[source_packages]] path entries may name (default $FORGE_SOURCE_DIRS, colon-separated; else none: the service's callers cannot make it read its machine's files)",
    },
    libdir: {
      type: 'string',
      metavar: 'DIR',
      help: "stages and runners the workers build with, in OSBuild layout: raw manifests are checked against it and the workers of this process use it; give workers elsewhere the same (forge worker's FORGE_LIBDIR) (default $FORGE_LIBDIR, else forge's)",
    },
    redis: {
      type: 'string',
      metavar: 'URL',
      help: `Redis to use, ${REDIS_URL_HELP} (default $REDIS_URL, else a private redis-server on a unix socket of the state directory)`,
    },
    ...REDIS_TLS_FLAGS,
    'log-level': { type: 'string', metavar: 'LEVEL', help: 'log level on standard error (default warn)' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new UsageError(`unexpected arguments: ${ctx.positionals.join(' ')}`);
    const flag = (name: string) =>
      typeof ctx.flags[name] === 'string' ? (ctx.flags[name] as string) : undefined;
    const stateDir = stateDirOf(ctx);
    const tcp = parseListen(flag('listen') ?? DEFAULT_LISTEN);
    const workers = parseCount('workers', flag('workers') ?? '1');
    const planWait = flag('plan-wait');
    const planWaitSeconds = planWait === undefined ? undefined : parseSeconds('plan-wait', planWait);
    const maxSize = flag('max-image-size');
    const maxImageSize = maxSize === undefined ? undefined : parseSize('max-image-size', maxSize);
    const cacheSize = flag('cache-max-size');
    const cacheMaxSize = cacheSize === undefined ? undefined : parseCacheSize('cache-max-size', cacheSize);
    const libdir = flag('libdir') ?? (process.env.FORGE_LIBDIR || undefined);
    const sourceDirs = parseSourceDirs(
      (ctx.flags['source-dir'] as string[] | undefined) ??
        (process.env.FORGE_SOURCE_DIRS ?? '').split(':').filter(Boolean),
    );
    const given = [
      ...((ctx.flags.token as string[] | undefined) ?? []),
      ...splitTokens(process.env.FORGE_API_TOKENS),
    ];
    const logger = pino({ level: flag('log-level') ?? 'warn' }, pino.destination(2));
    const out = (line: string) => ctx.io.stdout.write(`forge serve: ${line}\n`);
    const socket = { path: flag('socket') ?? `${stateDir}/api.socket`, group: flag('socket-group') };
    const cloudPath = flag('cloud-socket');
    const cloudSocket =
      cloudPath === undefined ? undefined : { path: cloudPath, group: flag('socket-group') };

    let service: Awaited<ReturnType<typeof startService>>;
    let tokens: ReturnType<typeof resolveTokens> | undefined;
    try {
      // The state directory is claimed before anything is read or written there (the token file).
      const claim = await claimStateDir(stateDir, cloudSocket ? [socket, cloudSocket] : [socket]);
      tokens = tcp ? resolveTokens(stateDir, given) : undefined;
      service = await startService({
        stateDir,
        claim,
        redisUrl: flag('redis') ?? (process.env.REDIS_URL || undefined),
        redisTls: Object.fromEntries(
          Object.entries(REDIS_TLS_ENV)
            .map(([name, env]) => [name.replace('redis-', ''), flag(name) ?? (process.env[env] || undefined)])
            .filter(([, file]) => file !== undefined),
        ),
        socket,
        ...(cloudSocket ? { cloudSocket } : {}),
        tcp,
        tokens: tokens?.tokens ?? [],
        workers,
        drain: ctx.flags.drain === true,
        ...(planWaitSeconds === undefined ? {} : { planWaitSeconds }),
        ...(maxImageSize === undefined ? {} : { maxImageSize }),
        ...(cacheMaxSize === undefined ? {} : { cacheMaxSize }),
        ...(libdir === undefined ? {} : { libdir }),
        sourceDirs,
        ...(ctx.flags['host-buildroot'] === true || process.env.FORGE_HOST_BUILDROOT === '1'
          ? { hostBuildRoot: true }
          : {}),
        version: VERSION,
        logger,
      });
    } catch (err) {
      if (err instanceof ServiceError) {
        ctx.io.stderr.write(`forge serve: ${err.message}\n`);
        return 1;
      }
      // Redis refusing the password, a TLS file that cannot be read …: one line, no stack.
      if (err instanceof QueueError) {
        ctx.io.stderr.write(`forge serve: ${err.message} [${err.code}]\n`);
        return 1;
      }
      throw err;
    }
    const { listening } = service;
    out(`state in ${stateDir}`);
    out(
      service.privateRedis
        ? `private redis-server on ${service.redisUrl}`
        : `Redis at ${maskRedisUrl(service.redisUrl)}`,
    );
    if (listening.socket) out(`listening on ${listening.socket} (unix socket, no token needed)`);
    if (listening.cloudSocket) {
      out(`Cloud API on ${listening.cloudSocket} (unix socket, no token needed; the Cloud API only)`);
    }
    if (listening.url) {
      out(`listening on ${listening.url} (a bearer token is needed)`);
      if (tokens?.file) {
        out(`the bearer token for TCP is in ${tokens.file}${tokens.generated ? ' (made now)' : ''}`);
      }
      out(`web UI at ${listening.url}/, API documentation at ${listening.url}/docs`);
    }
    out(
      service.worker
        ? `worker ${service.worker.name}: ${workers} build${workers === 1 ? '' : 's'} at a time, store in ${stateDir}/store`
        : 'no workers (API only)',
    );
    if (service.worker && service.worker.removedAtStart.removed.length > 0) {
      out(deadWorkLine(`${stateDir}/store`, service.worker.removedAtStart));
    }
    out('ready; stop with Ctrl-C (SIGINT) or SIGTERM');

    const signal = await waitForSignal(['SIGINT', 'SIGTERM'], () => {
      ctx.io.stderr.write('forge serve: second signal, exiting at once\n');
      process.exit(130);
    });
    out(`${signal}: stopping`);
    await service.close();
    out('stopped');
    exitOnceStopped();
    return 0;
  },
};
