/**
 * Listening: the unix socket (a stale socket file from a dead server is replaced; mode and group set
 * before the path is announced) and TCP, which needs tokens. Fastify listens once; the second
 * listener is a plain HTTP server that hands requests to the same router. Fastify's own server is
 * the unix socket's whenever there is one, and each connection it accepts is marked trusted there
 * (plugins/auth.ts); the TCP server's are never marked.
 *
 * The Cloud API's socket, when configured, is one more plain HTTP server, trusted as the unix
 * socket is; it hands on only requests for the Cloud API's routes, as osbuild-composer's
 * /run/cloudapi/api.socket serves only that API, and answers any other path with the Cloud API's
 * 404 (a path with `.` or `..` segments among them, which could name another API's route).
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { CommonErrorCode } from '@debian-forge/errors';
import type { FastifyInstance } from 'fastify';
import { cloudError } from './cloud/plugin.ts';
import { CLOUD_PREFIX } from './cloud/prefix.ts';
import type { ApiConfig } from './config.ts';
import { ApiError } from './errors.ts';
import { trustConnection } from './plugins/auth.ts';

export interface Listening {
  socket?: string;
  cloudSocket?: string;
  /** `http://host:port` of the TCP listener. */
  url?: string;
}

/** The id of a group named in /etc/group, or the number itself. */
export function groupId(group: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new ApiError(500, CommonErrorCode.Config, `socket group '${group}' does not exist`);
}

/** Resolves once `server` listens on the unix socket or TCP address given. */
function listenServer(
  server: Server,
  where: { path: string } | { host: string; port: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Makes room for a unix socket at `path`: its directory, and no stale socket file of a dead server. */
function clearSocketPath(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}

/** Gives a listening unix socket its mode and group. */
function guardSocket(socket: { path: string; mode: number; group?: string }): void {
  chmodSync(socket.path, socket.mode);
  if (socket.group !== undefined) chownSync(socket.path, -1, groupId(socket.group));
}

/** Whether `url` names a Cloud API route: under its prefix, with no `.` or `..` segment. */
function isCloudUrl(url: string): boolean {
  const path = url.split('?')[0] as string;
  if (path !== CLOUD_PREFIX && !path.startsWith(`${CLOUD_PREFIX}/`)) return false;
  return path.split('/').every((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    return decoded !== '.' && decoded !== '..';
  });
}

/** The Cloud API socket's server: Cloud API routes go to the app, everything else is a 404. */
function cloudServer(app: FastifyInstance): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (isCloudUrl(req.url ?? '')) return app.routing(req, res);
    const path = (req.url ?? '').split('?')[0];
    const body = JSON.stringify(
      cloudError(404, 'NotFound', `no route ${req.method} ${path} on the Cloud API socket`),
    );
    res.writeHead(404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}

/** Closes `server` with the app (the hook must be added before the app listens). */
function closeWithApp(app: FastifyInstance, server: Server): void {
  app.addHook('onClose', async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
}

export async function listen(app: FastifyInstance, config: ApiConfig): Promise<Listening> {
  if (config.tcp && config.tokens === null) {
    throw new ApiError(
      500,
      CommonErrorCode.Config,
      'a TCP listener needs bearer tokens in the configuration',
    );
  }
  if (config.cloudSocket && config.cloudSocket.path === config.socket?.path) {
    throw new ApiError(500, CommonErrorCode.Config, 'the Cloud API socket needs a path of its own');
  }
  const result: Listening = {};
  // Fastify listens once: with both listeners, TCP is a second server feeding the same router,
  // closed with the app (hooks must be added before the app listens).
  let extra: Server | undefined;
  if (config.socket && config.tcp) {
    extra = createServer((req, res) => app.routing(req, res));
    closeWithApp(app, extra);
  }
  let cloud: Server | undefined;
  if (config.cloudSocket) {
    cloud = cloudServer(app);
    cloud.prependListener('connection', trustConnection);
    closeWithApp(app, cloud);
  }
  if (config.socket) {
    clearSocketPath(config.socket.path);
    // First among the listeners, so the mark is there before the request parser sees a byte.
    app.server.prependListener('connection', trustConnection);
    await app.listen({ path: config.socket.path });
    guardSocket(config.socket);
    result.socket = config.socket.path;
  }
  if (config.tcp) {
    const { host, port } = config.tcp;
    if (extra) await listenServer(extra, { host, port });
    else await app.listen({ host, port });
    const address = (extra ?? app.server).address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    result.url = `http://${shown}:${address.port}`;
  }
  if (cloud && config.cloudSocket) {
    await app.ready(); // the router is complete once the app listens; without another listener, here
    clearSocketPath(config.cloudSocket.path);
    await listenServer(cloud, { path: config.cloudSocket.path });
    guardSocket(config.cloudSocket);
    result.cloudSocket = config.cloudSocket.path;
  }
  return result;
}
