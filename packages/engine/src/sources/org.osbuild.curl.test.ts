import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { which } from '@debian-forge/host';
import type { Source } from '@debian-forge/manifest';
import { fetchSources, quoteUrl, type SourceEvent } from './index.ts';

const hash = (algorithm: string, data: string | Buffer) =>
  `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;

const FILES: Record<string, string> = {
  '/a.txt': 'alpha\n',
  '/b.bin': 'bravo'.repeat(10_000),
  '/dir/with space+plus.txt': 'charlie\n',
};

let server: Server;
let base: string;
let work: string;
/** Requests per path. */
const hits = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;
/** TCP connections the server accepted. */
let connections = 0;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'forge-curl-test-'));
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path.startsWith('/slow/')) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(path);
      }, 150);
      return;
    }
    if (path === '/flaky' && (hits.get(path) ?? 0) === 1) {
      res.statusCode = 503;
      res.end('try again');
      return;
    }
    if (path === '/flaky') {
      res.end('finally\n');
      return;
    }
    if (path === '/redirect') {
      res.statusCode = 302;
      res.setHeader('location', '/a.txt');
      res.end();
      return;
    }
    const body = FILES[path];
    if (body === undefined) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.end(body);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(work, { recursive: true, force: true });
});

function needCurl(t: TestContext): boolean {
  if (which('curl')) return true;
  t.skip('needs curl');
  return false;
}

const curl = (items: Record<string, unknown>): Source => ({ type: 'org.osbuild.curl', items, options: {} });

function freshStore(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

const filesDir = (store: string) => join(store, 'org.osbuild.files');

/** Nothing but final files: no temporary file is left behind. */
function assertOnlyFinalFiles(store: string, expected: string[]): void {
  assert.deepEqual(readdirSync(filesDir(store)).sort(), [...expected].sort());
}

describe('org.osbuild.curl', () => {
  it('downloads over http into org.osbuild.files, verifying any allowed checksum, then serves the cache', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('ok');
    const items = {
      [hash('sha256', FILES['/a.txt'] as string)]: `${base}/a.txt`,
      [hash('sha512', FILES['/b.bin'] as string)]: { url: `${base}/b.bin` },
      [hash('md5', FILES['/dir/with space+plus.txt'] as string)]: `${base}/dir/with space+plus.txt`,
      [hash('sha1', FILES['/a.txt'] as string)]: { url: `${base}/redirect`, insecure: true },
      [hash('sha384', FILES['/a.txt'] as string)]: `${base}/a.txt`,
    };
    const events: SourceEvent[] = [];
    const [result] = await fetchSources([curl(items)], store, { onEvent: (e) => events.push(e) });
    assert.ok(result);
    assert.equal(result.type, 'org.osbuild.curl');
    assert.deepEqual(
      result.items,
      Object.keys(items).map((checksum) => ({ checksum, cached: false })),
    );
    assert.equal(result.success, true);
    for (const [checksum, desc] of Object.entries(items)) {
      const url = typeof desc === 'string' ? desc : desc.url;
      const path = url.endsWith('/redirect') ? '/a.txt' : decodeURIComponent(new URL(url).pathname);
      assert.equal(readFileSync(join(filesDir(store), checksum), 'utf8'), FILES[path]);
    }
    assertOnlyFinalFiles(store, Object.keys(items));
    assert.equal(events.length, 5);
    assert.ok(events.every((e) => e.type === 'org.osbuild.curl' && !e.cached && !e.error));

    const before = hits.get('/a.txt');
    const [again] = await fetchSources([curl(items)], store);
    assert.ok(again?.success);
    assert.ok(again.items.every((i) => i.cached));
    assert.equal(hits.get('/a.txt'), before, 'a cached file is not fetched again');
  });

  it('downloads file:// URLs, quoting the path as OSBuild does', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('file');
    const local = join(work, 'local dir');
    mkdirSync(local);
    writeFileSync(join(local, 'x +ü.txt'), 'from disk\n');
    const checksum = hash('sha256', 'from disk\n');
    // The raw path, as manifests write it: OSBuild quotes it, so the space, '+' and 'ü' work.
    const url = `file://${local}/x +ü.txt`;
    const [result] = await fetchSources([curl({ [checksum]: url })], store);
    assert.deepEqual(result?.items, [{ checksum, cached: false }]);
    assert.equal(readFileSync(join(filesDir(store), checksum), 'utf8'), 'from disk\n');

    const missing = hash('sha256', 'nope');
    const [bad] = await fetchSources([curl({ [missing]: `file://${local}/nope` })], store, {
      retries: 1,
    });
    assert.equal(bad?.success, false);
    assert.match(bad?.items[0]?.error ?? '', new RegExp(`cannot download file://${local}/nope: .*`));
  });

  it('rejects a checksum mismatch naming the URL and both sums, and keeps nothing under the good name', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('mismatch');
    const wanted = hash('sha256', 'something else');
    const [result] = await fetchSources([curl({ [wanted]: `${base}/a.txt` })], store, {
      retries: 2,
      backoffMs: 5,
    });
    assert.equal(result?.success, false);
    const error = result?.items[0]?.error ?? '';
    assert.match(error, /checksum mismatch/);
    assert.ok(error.includes(`${base}/a.txt`), error);
    assert.ok(error.includes(wanted), error);
    assert.ok(error.includes(hash('sha256', FILES['/a.txt'] as string)), error);
    assert.equal(existsSync(join(filesDir(store), wanted)), false);
    assertOnlyFinalFiles(store, []);
  });

  it('retries with backoff and reports the HTTP status of the last attempt', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('404');
    const checksum = hash('sha256', 'never');
    const started = Date.now();
    const [result] = await fetchSources([curl({ [checksum]: `${base}/missing` })], store, {
      retries: 3,
      backoffMs: 100,
    });
    assert.equal(hits.get('/missing'), 3, 'three attempts');
    assert.ok(Date.now() - started >= 300, 'waited 100 ms, then 200 ms');
    assert.equal(result?.success, false);
    assert.equal(result?.items[0]?.error, `cannot download ${base}/missing: HTTP status 404 (3 attempts)`);
    assertOnlyFinalFiles(store, []);

    // A server that fails once and then answers: the retry makes it.
    const flaky = hash('sha256', 'finally\n');
    const [ok] = await fetchSources([curl({ [flaky]: `${base}/flaky` })], store, { backoffMs: 5 });
    assert.deepEqual(ok?.items, [{ checksum: flaky, cached: false }]);
    assert.equal(hits.get('/flaky'), 2);
  });

  it('keeps at most `parallel` downloads in flight', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('parallel');
    const items: Record<string, string> = {};
    for (let i = 0; i < 8; i++) items[hash('sha256', `/slow/${i}`)] = `${base}/slow/${i}`;
    maxInFlight = 0;
    const [result] = await fetchSources([curl(items)], store, { parallel: 3 });
    assert.equal(result?.success, true, JSON.stringify(result));
    assert.equal(maxInFlight, 3);

    maxInFlight = 0;
    const serial = freshStore('serial');
    await fetchSources([curl(items)], serial, { parallel: 1 });
    assert.equal(maxInFlight, 1);
  });

  it('fetches many files with one curl over one connection; what fails there is retried one by one', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('batch');
    const good: Record<string, string> = {};
    for (let i = 0; i < 6; i++) good[hash('sha256', `/slow/batch-${i}`)] = `${base}/slow/batch-${i}`;
    const missing = hash('sha256', 'never');
    const wrong = hash('sha256', 'not alpha');
    connections = 0;
    const before = hits.get('/batch-missing') ?? 0;
    const [result] = await fetchSources(
      [curl({ ...good, [missing]: `${base}/batch-missing`, [wrong]: `${base}/a.txt` })],
      store,
      { parallel: 1, retries: 2, backoffMs: 5 },
    );
    assert.equal(result?.success, false);
    assert.deepEqual(
      result?.items.slice(0, 6),
      Object.keys(good).map((checksum) => ({ checksum, cached: false })),
    );
    assert.equal(
      result?.items[6]?.error,
      `cannot download ${base}/batch-missing: HTTP status 404 (2 attempts)`,
    );
    assert.match(result?.items[7]?.error ?? '', /checksum mismatch/);
    assertOnlyFinalFiles(store, Object.keys(good));
    // the batch once, then the two attempts of the one-by-one fetch
    assert.equal((hits.get('/batch-missing') ?? 0) - before, 3);
    // The batch's one connection (curl drops it after a --fail error, so one more for what comes
    // after the 404), then one per attempt of the two that failed; a curl per file would make 10.
    assert.ok(connections <= 2 + 2 + 2, `${connections} connections`);
  });

  it('reports secrets providers it cannot serve', async (t) => {
    if (!needCurl(t)) return;
    const store = freshStore('secrets');
    const checksum = hash('sha256', FILES['/a.txt'] as string);
    const [result] = await fetchSources(
      [curl({ [checksum]: { url: `${base}/a.txt`, secrets: { name: 'org.osbuild.rhsm' } } })],
      store,
    );
    assert.match(result?.items[0]?.error ?? '', /org\.osbuild\.rhsm .*not supported/);
  });
});

describe('quoteUrl', () => {
  it('quotes the path like urllib.parse.quote and leaves the rest alone', () => {
    assert.equal(
      quoteUrl('http://h:80/a b/c+d~e_f.g-h?q=1 2#x y'),
      'http://h:80/a%20b/c%2Bd~e_f.g-h?q=1 2#x y',
    );
    assert.equal(quoteUrl('https://h/p%20q'), 'https://h/p%2520q');
    assert.equal(quoteUrl('https://h/dir;v=1/f;type=a'), 'https://h/dir%3Bv%3D1/f;type=a');
    assert.equal(quoteUrl('file:///tmp/ä ö'), 'file:///tmp/%C3%A4%20%C3%B6');
    assert.equal(quoteUrl('file:///tmp/x;y'), 'file:///tmp/x%3By');
    assert.equal(pathToFileURL('/tmp/a').href, quoteUrl('file:///tmp/a'));
  });
});
