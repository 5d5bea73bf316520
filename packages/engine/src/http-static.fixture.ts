/**
 * The one static HTTP server of the tests: serves the files under a directory, or files given as
 * path → content, with GET and HEAD (404 for anything else there, 405 for other methods), as a
 * plain web server serves an OSTree archive repository or a curl source's file. It records what
 * it was asked for, so a test can tell what a fetch did.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, resolve, sep } from 'node:path';

export interface StaticServer {
  /** `http://HOST:PORT` */
  url: string;
  port: number;
  /** Paths asked for, in order, answered or not. */
  requests: string[];
  /** Files served (200) per path. */
  hits: Map<string, number>;
  /** Requests answered, by status code. */
  statuses: Map<number, number>;
  close(): Promise<void>;
}

/** Serves `content` (a directory, or path → bytes) on `host` at a free port. */
export async function serveStatic(
  content: string | Record<string, Buffer>,
  host = '127.0.0.1',
): Promise<StaticServer> {
  const root = typeof content === 'string' ? resolve(content) : undefined;
  const requests: string[] = [];
  const hits = new Map<string, number>();
  const statuses = new Map<number, number>();
  const answer = (res: ServerResponse, status: number) => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    res.statusCode = status;
  };
  /** The file or bytes at `path`, or undefined; a path out of the directory finds nothing. */
  const find = (path: string): { size: number; send(res: ServerResponse): void } | undefined => {
    if (root === undefined) {
      const body = (content as Record<string, Buffer>)[path];
      return body && { size: body.length, send: (res) => res.end(body) };
    }
    const file = normalize(join(root, path));
    const st = file.startsWith(root + sep) ? statSync(file, { throwIfNoEntry: false }) : undefined;
    return st?.isFile() ? { size: st.size, send: (res) => createReadStream(file).pipe(res) } : undefined;
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requests.push(path);
    const readable = req.method === 'GET' || req.method === 'HEAD';
    const found = readable ? find(path) : undefined;
    if (found === undefined) {
      answer(res, readable ? 404 : 405);
      res.end();
      return;
    }
    answer(res, 200);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    res.setHeader('Content-Length', found.size);
    res.setHeader('Content-Type', 'application/octet-stream');
    if (req.method === 'HEAD') res.end();
    else found.send(res);
  });
  await new Promise<void>((done) => server.listen(0, host, done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    hits,
    statuses,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
