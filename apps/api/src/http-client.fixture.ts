/**
 * For tests and benchmarks that talk to a running service: one request (`call`) or a server-sent
 * event stream read to its end (`followEvents`), over the service's unix socket or over TCP with
 * its bearer token.
 */
import { type RequestOptions, request } from 'node:http';

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
