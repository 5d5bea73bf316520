import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkerErrorCode } from './errors.ts';
import { uploadArtifact } from './upload.ts';

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A server answering each upload with the next of `statuses` (201 echoes what it received). */
async function server(statuses: number[]) {
  const seen: Seen[] = [];
  const srv = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    seen.push({ url: req.url ?? '', headers: req.headers, body });
    const status = statuses.shift() ?? 500;
    const sha256 = createHash('sha256').update(body).digest('hex');
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        status === 201
          ? { filename: 'disk.img', size: body.length, sha256 }
          : { code: 'FORGE_ERR_COMPOSE_STATE', message: `answer ${status}` },
      ),
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/base/`, seen, close: () => srv.close() };
}

test('uploads with Content-Length, X-Forge-Sha256 and the token; retries a 503; a 4xx, 500 or 507 is final', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-upload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'disk.img');
  const data = Buffer.alloc(300_000, 7);
  writeFileSync(file, data);
  const sha256 = createHash('sha256').update(data).digest('hex');

  const s = await server([503, 201]);
  t.after(s.close);
  const retries: string[] = [];
  const got = await uploadArtifact({ url: s.url, token: 'tok' }, 'c1', 'disk.img', file, {
    retryDelayMs: 10,
    log: (line) => retries.push(line),
  });
  assert.deepEqual(got, { filename: 'disk.img', size: data.length, sha256 });
  assert.equal(s.seen.length, 2);
  assert.equal(retries.length, 1);
  const last = s.seen[1] as Seen;
  assert.equal(last.url, '/base/api/forge/v1/composes/c1/artifact?filename=disk.img');
  assert.equal(last.headers['x-forge-sha256'], sha256);
  assert.equal(last.headers['content-length'], String(data.length));
  assert.equal(last.headers.authorization, 'Bearer tok');
  assert.ok(last.body.equals(data));

  const refused = await server([409]);
  t.after(refused.close);
  await assert.rejects(
    uploadArtifact({ url: refused.url, token: 'tok' }, 'c1', 'disk.img', file, { retryDelayMs: 10 }),
    (err: { code?: string; message: string }) =>
      err.code === WorkerErrorCode.UPLOAD_REFUSED &&
      /409 FORGE_ERR_COMPOSE_STATE: answer 409/.test(err.message),
  );
  assert.equal(refused.seen.length, 1, 'not retried');

  // The API's own faults that a retry does not cure: no room (507), a directory it cannot write.
  for (const status of [507, 500]) {
    const full = await server([status, 201]);
    t.after(full.close);
    await assert.rejects(
      uploadArtifact({ url: full.url, token: 'tok' }, 'c1', 'disk.img', file, { retryDelayMs: 10 }),
      (err: { code?: string; message: string }) =>
        err.code === WorkerErrorCode.UPLOAD_REFUSED &&
        err.message.includes(`refused the artifact: ${status} `),
    );
    assert.equal(full.seen.length, 1, `${status} not retried`);
  }

  // Nobody listening: every attempt fails to connect.
  s.close();
  await assert.rejects(
    uploadArtifact({ url: s.url, token: 'tok' }, 'c1', 'disk.img', file, { retryDelayMs: 10, attempts: 2 }),
    /failed 2 times, last: .*ECONNREFUSED/,
  );
});

test('an answer that comes before the whole body went out is read, and the sending stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-upload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'disk.img');
  writeFileSync(file, Buffer.alloc(64 * 1024 ** 2, 1));
  // The server answers after the first chunk, then reads slowly (64 KiB every 5 ms): the client
  // must hang up once it has the answer, not send the rest.
  let hungUp: (bytes: number) => void = () => {};
  const closed = new Promise<number>((resolve) => {
    hungUp = resolve;
  });
  const srv = createServer((req, res) => {
    req.socket.once('close', () => hungUp(req.socket.bytesRead));
    req.on('data', () => {
      if (!res.headersSent) {
        res.writeHead(507, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ code: 'FORGE_ERR_ARTIFACTS_FULL', message: 'the artifacts directory is full' }),
        );
      }
      req.pause();
      setTimeout(() => req.resume(), 5);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const { port } = srv.address() as AddressInfo;
  await assert.rejects(
    uploadArtifact({ url: `http://127.0.0.1:${port}/`, token: 'tok' }, 'c1', 'disk.img', file, {
      retryDelayMs: 10,
    }),
    /refused the artifact: 507 FORGE_ERR_ARTIFACTS_FULL: the artifacts directory is full/,
  );
  const timeout = new Promise<string>((r) => setTimeout(() => r('still connected after 5 s'), 5000).unref());
  const bytes = await Promise.race([closed, timeout]);
  assert.equal(typeof bytes, 'number', String(bytes));
  assert.ok((bytes as number) < 64 * 1024 ** 2, `the server read ${bytes} bytes`);
});
