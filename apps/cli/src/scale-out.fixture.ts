/**
 * A deployment over several "hosts" on one machine, for the scale-out test and bench: network
 * namespaces joined by veth pairs to a bridge in the first host's namespace (the one that runs
 * Redis and the API), one address each in a private /24; the machine itself, where the test runs,
 * joins the bridge as a client. Redis listens on the first host's address with one ACL user per
 * role (packages/queue redisAclUser, as docker-compose.yml has them), `forge serve --workers 0` on
 * TCP with a token, and each other host runs `forge worker` with its own state directory, reaching
 * both over this network only. `destroy()` ends every process in the namespaces, then removes the
 * namespaces and the client's link, whatever happened before.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Answer, call } from '@debian-forge/api/testing/http-client';
import { run, which } from '@debian-forge/host';
import { redisAclUser } from '@debian-forge/queue';
import { startRedis, type TestRedis } from '@debian-forge/queue/testing';
import { forgeChild, type Serve, startServe } from './serve.fixture.ts';

const REDIS_PORT = 6379;
const API_PORT = 8700;

export interface Host {
  name: string;
  /** The `ip netns` name. */
  netns: string;
  address: string;
  /** Its interface inside its namespace (taking it down cuts the host off). */
  link: string;
}

/** Why the scale-out set-up cannot run here, or undefined when it can. */
export async function scaleOutUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, veth pairs, and the builds)';
  for (const program of ['ip', 'bwrap', 'redis-server']) {
    if (!which(program)) return `needs ${program}`;
  }
  // Made and removed at once: a container without CAP_SYS_ADMIN or veth support fails here.
  const probe = `forge-probe-${randomBytes(3).toString('hex')}`;
  try {
    await ip('netns', 'add', probe);
    await ip('-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1');
    return undefined;
  } catch (err) {
    return `ip netns or veth pairs are unavailable: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    await ip('netns', 'del', probe).catch(() => undefined);
  }
}

function ip(...args: string[]) {
  return run(['ip', ...args], { timeout: 10_000 });
}

/** A private /24 that no interface of this machine uses: 10.(200–249).(0–255).0. */
async function freeSubnet(): Promise<string> {
  const used = (await ip('-4', '-o', 'addr')).stdout;
  for (;;) {
    const [a, b] = randomBytes(2) as unknown as [number, number];
    const prefix = `10.${200 + (a % 50)}.${b}`;
    if (!used.includes(` ${prefix}.`)) return prefix;
  }
}

export interface Network {
  /** The first host: Redis and the API. */
  server: Host;
  /** The others, for workers. */
  workers: Host[];
  /** The machine's own address on the network (the test's requests come from it). */
  clientAddress: string;
  /** Takes a host's interface down: nothing reaches it nor leaves it any more. */
  cut(host: Host): Promise<void>;
  /** Ends every process in the namespaces (SIGTERM, SIGKILL after `graceMs`) and removes them. */
  destroy(graceMs?: number): Promise<void>;
}

/**
 * Namespaces `forge-<tag>-api` and `forge-<tag>-w1…wN`: the bridge `br0` in the API's, each worker's
 * `eth0` paired with a port of it, and the machine's link `fo<tag>`.
 */
export async function createNetwork(workerCount: number): Promise<Network> {
  const tag = randomBytes(3).toString('hex');
  const prefix = await freeSubnet();
  const host = (name: string, n: number): Host => ({
    name,
    netns: `forge-${tag}-${name}`,
    address: `${prefix}.${n}`,
    link: name === 'api' ? 'br0' : 'eth0',
  });
  const server = host('api', 1);
  const workers = Array.from({ length: workerCount }, (_, i) => host(`w${i + 1}`, 11 + i));
  const clientLink = `fo${tag}`;
  const made: Host[] = [];
  const destroy = async (graceMs = 5000) => {
    await endProcesses(made, graceMs);
    for (const h of made) await ip('netns', 'del', h.netns).catch(() => undefined);
    await ip('link', 'del', clientLink).catch(() => undefined); // gone with its peer, normally
  };
  try {
    for (const h of [server, ...workers]) {
      await ip('netns', 'add', h.netns);
      made.push(h);
      await ip('-n', h.netns, 'link', 'set', 'lo', 'up');
    }
    const br = ['-n', server.netns];
    await ip(...br, 'link', 'add', 'br0', 'type', 'bridge');
    await ip(...br, 'addr', 'add', `${server.address}/24`, 'dev', 'br0');
    await ip(...br, 'link', 'set', 'br0', 'up');
    const port = async (name: string) => {
      await ip(...br, 'link', 'set', name, 'master', 'br0');
      await ip(...br, 'link', 'set', name, 'up');
    };
    for (const w of workers) {
      await ip(
        '-n',
        w.netns,
        'link',
        'add',
        'eth0',
        'type',
        'veth',
        'peer',
        'name',
        `p-${w.name}`,
        'netns',
        server.netns,
      );
      await ip('-n', w.netns, 'addr', 'add', `${w.address}/24`, 'dev', 'eth0');
      await ip('-n', w.netns, 'link', 'set', 'eth0', 'up');
      await port(`p-${w.name}`);
    }
    await ip('link', 'add', clientLink, 'type', 'veth', 'peer', 'name', 'p-client', 'netns', server.netns);
    await ip('addr', 'add', `${prefix}.100/24`, 'dev', clientLink);
    await ip('link', 'set', clientLink, 'up');
    await port('p-client');
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    server,
    workers,
    clientAddress: `${prefix}.100`,
    cut: (h) => ip('-n', h.netns, 'link', 'set', h.link, 'down').then(() => undefined),
    destroy,
  };
}

/** SIGTERM to every process in the hosts' namespaces, SIGKILL to those left after `graceMs`. */
async function endProcesses(hosts: Host[], graceMs: number): Promise<void> {
  const pids = async () => {
    const all: number[] = [];
    for (const h of hosts) {
      const out = await ip('netns', 'pids', h.netns).catch(() => ({ stdout: '' }));
      all.push(...out.stdout.split('\n').filter(Boolean).map(Number));
    }
    return all;
  };
  const signal = (list: number[], sig: NodeJS.Signals) => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch {
        // ended meanwhile
      }
    }
  };
  signal(await pids(), 'SIGTERM');
  const until = Date.now() + graceMs;
  let left = await pids();
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = await pids();
  }
  signal(left, 'SIGKILL');
}

/** The API host of a deployment: Redis and `forge serve`, and what a worker needs to reach them. */
export interface Deployment {
  network: Network;
  redis: TestRedis;
  serve: Serve;
  /** `http://ADDRESS:PORT` of the API on the network. */
  apiUrl: string;
  token: string;
  /** The workers' Redis URL (their ACL user). */
  workerRedisUrl: string;
}

/**
 * Redis (ACL users forge-api and forge-worker, default user off) and `forge serve --workers 0` in
 * the network's first host, their state under `dir`; `libdir` when the workers build with one of
 * their own (FORGE_LIBDIR), so the API accepts its stages.
 */
export async function startDeployment(network: Network, dir: string, libdir?: string): Promise<Deployment> {
  const secret = () => randomBytes(16).toString('hex');
  const [apiPassword, workerPassword, token] = [secret(), secret(), secret()];
  const { server } = network;
  const redis = await startRedis({
    netns: server.netns,
    tcp: { host: server.address, port: REDIS_PORT },
    aclUsers: [
      'user default off',
      redisAclUser('forge-api', apiPassword),
      redisAclUser('forge-worker', workerPassword),
    ],
  });
  const redisUrl = (user: string, password: string) =>
    `redis://${user}:${password}@${server.address}:${REDIS_PORT}`;
  let serve: Serve;
  try {
    serve = await startServe(
      join(dir, 'api'),
      [
        ...['--workers', '0', '--redis', redisUrl('forge-api', apiPassword), '--token', token],
        ...(libdir ? ['--libdir', libdir] : []),
      ],
      60_000,
      { netns: server.netns, listen: `${server.address}:${API_PORT}` },
    );
  } catch (err) {
    await redis.stop();
    throw err;
  }
  return {
    network,
    redis,
    serve,
    apiUrl: `http://${server.address}:${API_PORT}`,
    token,
    workerRedisUrl: redisUrl('forge-worker', workerPassword),
  };
}

export interface WorkerHost {
  host: Host;
  child: ChildProcess;
  /** Its name in the API's worker list and on the composes it builds: the host's name. */
  name: string;
  output(): string;
}

/**
 * `forge worker` in `host`, with its state directory under `dir`, ready when it says so. `env`
 * adds to the configuration (FORGE_WORKER_MEMORY_MIB, FORGE_WORKER_JOBS, FORGE_LIBDIR …).
 */
export async function startWorkerHost(
  deployment: Deployment,
  host: Host,
  dir: string,
  env: Record<string, string> = {},
): Promise<WorkerHost> {
  const stateDir = join(dir, host.name);
  mkdirSync(stateDir, { recursive: true });
  const child = forgeChild(
    ['worker', '--name', host.name, '--state-dir', stateDir],
    {
      ...process.env,
      REDIS_URL: deployment.workerRedisUrl,
      FORGE_API_URL: deployment.apiUrl,
      FORGE_API_TOKEN: deployment.token,
      ...env,
    },
    host.netns,
  );
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit');
  const deadline = Date.now() + 60_000;
  while (!/takes jobs from Redis/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`forge worker on ${host.name} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, child, name: host.name, output: () => out };
}

/** What the Forge API shows of a compose, as far as the scale-out test and bench read it. */
export interface ComposeSeen {
  id: string;
  state: string;
  priority: number;
  started_at: string | null;
  finished_at: string | null;
  worker: string | null;
  error: { code: string; message: string } | null;
  artifacts: { filename: string; size: number; sha256: string }[];
}

const ENDED = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** The deployment's API over the network (TCP, the token), as a client machine uses it. */
export function apiClient(deployment: Deployment) {
  const target = { url: deployment.apiUrl, token: deployment.token };
  const json = { 'content-type': 'application/json' };
  const ok = (res: Answer, status: number, what: string) => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text()}`);
    return res;
  };
  const view = async (id: string) =>
    ok(await call(target, 'GET', `/api/forge/v1/composes/${id}`), 200, `compose ${id}`).json() as ComposeSeen;
  return {
    /** Queues a raw manifest whose pipeline `tree` holds the artifact `filename`. */
    async submit(manifest: object, filename: string, priority?: number): Promise<string> {
      const body = JSON.stringify({
        manifest,
        exports: ['tree'],
        filename,
        ...(priority === undefined ? {} : { priority }),
      });
      const res = ok(await call(target, 'POST', '/api/forge/v1/manifests', body, json), 201, 'submit');
      return (res.json() as ComposeSeen).id;
    },
    view,
    async cancel(id: string): Promise<void> {
      ok(await call(target, 'POST', `/api/forge/v1/composes/${id}/cancel`, '{}', json), 200, `cancel ${id}`);
    },
    /** The image of a finished compose, through Weldr's compose/image. */
    async image(id: string): Promise<Buffer> {
      return ok(await call(target, 'GET', `/api/v1/compose/image/${id}`), 200, `image of ${id}`).body;
    },
    /** Polls until `done(compose)` holds; fails when the compose ends otherwise or time is up. */
    async waitFor(
      id: string,
      done: (c: ComposeSeen) => boolean,
      what: string,
      ms = 60_000,
    ): Promise<ComposeSeen> {
      const until = Date.now() + ms;
      for (;;) {
        const c = await view(id);
        if (done(c)) return c;
        if (ENDED.includes(c.state))
          throw new Error(`compose ${id} ended ${c.state} (${JSON.stringify(c.error)}), not ${what}`);
        if (Date.now() > until) throw new Error(`compose ${id} is ${c.state}, not ${what}, after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

/**
 * A cheap build whose manifest differs by `tag` (so no store has it yet): a directory and a 1 MiB
 * sparse file, the artifact `image`. Only the sandbox's start and the store's commits cost time.
 */
export function cheapManifest(tag: string) {
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        stages: [
          { type: 'org.osbuild.mkdir', options: { paths: [{ path: `/${tag}`, mode: 0o755 }] } },
          { type: 'org.osbuild.truncate', options: { filename: 'image', size: '1M' } },
        ],
      },
    ],
  };
}
