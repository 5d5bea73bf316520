/**
 * A static file server on loopback for tests: serves the files under a directory with GET and
 * HEAD (404 for anything missing, a directory or outside it), as an OSTree archive repository or any
 * other tree of files is served by a plain web server. Counts the requests it answered.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface StaticServer {
  port: number;
  /** Requests answered so far, by status code. */
  requests: Map<number, number>;
  close(): Promise<void>;
}

export async function serveDirectory(root: string, host = '127.0.0.1'): Promise<StaticServer> {
  const requests = new Map<number, number>();
  const answer = (res: import('node:http').ServerResponse, status: number) => {
    requests.set(status, (requests.get(status) ?? 0) + 1);
    res.statusCode = status;
  };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path));
    const st = file.startsWith(root + sep) ? statSync(file, { throwIfNoEntry: false }) : undefined;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !st?.isFile()) {
      answer(res, req.method === 'GET' || req.method === 'HEAD' ? 404 : 405);
      res.end();
      return;
    }
    answer(res, 200);
    res.setHeader('Content-Length', st.size);
    res.setHeader('Content-Type', 'application/octet-stream');
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
