/**
 * For tests of the OSTree modules: real repositories made with the `ostree` command, and a plain
 * static HTTP server on loopback that serves a directory (an archive repository is all files, so
 * this is all `ostree pull` needs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve, sep } from 'node:path';

export const hasOstree = (() => {
  try {
    execFileSync('ostree', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const ostree = (repo: string, ...argv: string[]): string =>
  execFileSync('ostree', [...argv, `--repo=${repo}`], { encoding: 'utf8' }).trim();

/** Writes `files` (path → content) under `dir` and commits them to `repo` (created as an archive). */
export function commitFiles(repo: string, dir: string, ref: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  try {
    statSync(join(repo, 'config'));
  } catch {
    mkdirSync(dirname(repo), { recursive: true });
    ostree(repo, 'init', '--mode=archive');
  }
  return ostree(repo, 'commit', `--branch=${ref}`, `--tree=dir=${dir}`);
}

export interface Served {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves the files under `dir` read-only over HTTP on 127.0.0.1 (404 for anything else). */
export function serveDirectory(dir: string): Promise<Served> {
  const root = resolve(dir);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = resolve(root, `.${path}`);
    try {
      if (!file.startsWith(root + sep) || !statSync(file).isFile()) throw new Error('not a file');
      res.end(readFileSync(file));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      done({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise<void>((closed) => server.close(() => closed())),
      });
    });
  });
}
