/**
 * For the tests of the running service: `forge serve` as a child process of the real CLI (what it
 * printed tells where it listens), and HTTP requests over its unix socket or TCP.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type RequestOptions, request } from 'node:http';
import { join } from 'node:path';
import { forgeChild } from './engine.fixture.ts';

export interface Serve {
  child: ChildProcess;
  stateDir: string;
  socket: string;
  /** `http://host:port` of the TCP listener. */
  url: string;
  token: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `forge serve --state-dir DIR --listen 127.0.0.1:0 ARGS` and waits until it is ready. */
export async function startServe(stateDir: string, args: string[] = [], timeoutMs = 60_000): Promise<Serve> {
  const child = forgeChild(['serve', '--state-dir', stateDir, '--listen', '127.0.0.1:0', ...args]);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = once(child, 'exit');
  const deadline = Date.now() + timeoutMs;
  while (!/forge serve: ready/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`forge serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const socket = /listening on (\/\S+) \(unix socket/.exec(out)?.[1] ?? '';
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? '';
  const tokenFile = /the bearer token for TCP is in (\S+)/.exec(out)?.[1];
  let token = '';
  try {
    token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : '';
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    stateDir,
    socket,
    url,
    token,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code as number | null;
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json(): unknown;
}

/** One request over the unix socket (`{socket}`) or TCP (`{url, token}`). */
export function call(
  target: { socket: string } | { url: string; token?: string },
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const all: Record<string, string> = { ...headers };
  let options: RequestOptions;
  if ('socket' in target) {
    options = { socketPath: target.socket, path, method, headers: all };
  } else {
    const u = new URL(path, target.url);
    if (target.token) all.authorization = `Bearer ${target.token}`;
    options = { hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers: all };
  }
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: data,
          text: () => data.toString('utf8'),
          json: () => JSON.parse(data.toString('utf8')),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const serveStatePaths = (stateDir: string) => ({
  token: join(stateDir, 'api-token'),
  redisPid: join(stateDir, 'redis', 'redis.pid'),
});

export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Reads a server-sent event stream until the server ends it (or `stop` returns true for an event);
 * returns every event in order.
 */
export function followEvents(
  target: { socket: string } | { url: string; token?: string },
  path: string,
  stop: (e: ServerSentEvent) => boolean = () => false,
): Promise<ServerSentEvent[]> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  let options: RequestOptions;
  if ('socket' in target) {
    options = { socketPath: target.socket, path, headers };
  } else {
    const u = new URL(path, target.url);
    if (target.token) headers.authorization = `Bearer ${target.token}`;
    options = { hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers };
  }
  return new Promise((resolve, reject) => {
    const events: ServerSentEvent[] = [];
    const req = request(options, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET ${path}: ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue; // a comment (heartbeat)
          const e = { event, data: data.join('\n') };
          events.push(e);
          if (stop(e)) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
      res.on('end', () => resolve(events));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
