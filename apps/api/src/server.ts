/**
 * Listening: the unix socket (a stale socket file from a dead server is replaced; mode and group set
 * before the path is announced) and TCP, which needs tokens. Fastify listens once; the second
 * listener is a plain HTTP server that hands requests to the same router. Fastify's own server is
 * the unix socket's whenever there is one, and each connection it accepts is marked trusted there
 * (plugins/auth.ts); the TCP server's are never marked.
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ApiConfig } from './config.ts';
import { ApiError } from './errors.ts';
import { trustConnection } from './plugins/auth.ts';

export interface Listening {
  socket?: string;
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
  throw new ApiError(500, 'FORGE_ERR_CONFIG', `socket group '${group}' does not exist`);
}

function listenServer(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function listen(app: FastifyInstance, config: ApiConfig): Promise<Listening> {
  if (config.tcp && config.tokens === null) {
    throw new ApiError(500, 'FORGE_ERR_CONFIG', 'a TCP listener needs bearer tokens in the configuration');
  }
  const result: Listening = {};
  // Fastify listens once: with both listeners, TCP is a second server feeding the same router,
  // closed with the app (hooks must be added before the app listens).
  let extra: Server | undefined;
  if (config.socket && config.tcp) {
    const server = createServer((req, res) => app.routing(req, res));
    extra = server;
    app.addHook('onClose', async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
  }
  if (config.socket) {
    const { path, mode, group } = config.socket;
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
    // First among the listeners, so the mark is there before the request parser sees a byte.
    app.server.prependListener('connection', trustConnection);
    await app.listen({ path });
    chmodSync(path, mode);
    if (group !== undefined) chownSync(path, -1, groupId(group));
    result.socket = path;
  }
  if (config.tcp) {
    const { host, port } = config.tcp;
    let address: AddressInfo;
    if (extra) {
      address = await listenServer(extra, host, port);
    } else {
      await app.listen({ host, port });
      address = app.server.address() as AddressInfo;
    }
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    result.url = `http://${shown}:${address.port}`;
  }
  return result;
}
