/**
 * The processor's artifact: only a regular file inside the export is uploaded. The worker runs as
 * root, and a build decides what its tree holds: `image` can be a symbolic link to a host file.
 * `forge build` is replaced here at the process boundary by a script that lays out the export as
 * the plan's manifest says (`fake`), and the API by a server that serves the plan and takes the
 * upload, so these tests need neither root nor bwrap; the real build doing the same is in
 * test/security-names.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildJob, BuildPlan, JobContext } from '@debian-forge/queue';
import { pino } from 'pino';
import { buildProcessor } from './processor.ts';

const FAKE_FORGE = `
const fs = require('node:fs');
const path = require('node:path');
const argv = process.argv.slice(2);
const at = (flag) => argv[argv.indexOf(flag) + 1];
const manifest = JSON.parse(fs.readFileSync(argv[1], 'utf8'));
const tree = path.join(at('--output-directory'), at('--export'));
fs.mkdirSync(tree, { recursive: true });
for (const [name, e] of Object.entries(manifest.fake)) {
  const p = path.join(tree, name);
  if (e.symlink) fs.symlinkSync(e.symlink, p);
  else if (e.dir) fs.mkdirSync(p);
  else fs.writeFileSync(p, e.data);
}
if (manifest.metadata) {
  const result = { type: 'result', success: true, metadata: manifest.metadata, sources: {}, log: {} };
  console.log(JSON.stringify(result));
}
`;

describe('buildProcessor: the artifact', () => {
  let dir: string;
  let secret: string;
  const uploads: { url: string; body: Buffer }[] = [];
  let plan: BuildPlan;
  const srv = createServer(async (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(req.url === '/api/forge/v1/composes/c1/plan?job=build-c1' ? 200 : 404);
      res.end(JSON.stringify(plan));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    uploads.push({ url: req.url ?? '', body });
    const sha256 = createHash('sha256').update(body).digest('hex');
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ filename: 'image', size: body.length, sha256 }));
  });
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forge-processor-'));
    writeFileSync(join(dir, 'forge.cjs'), FAKE_FORGE);
    mkdirSync(join(dir, 'host'), { mode: 0o700 });
    secret = join(dir, 'host', 'secret.txt');
    writeFileSync(secret, 'host secret\n', { mode: 0o600 });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
  });
  after(() => {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (
    fake: Record<string, unknown>,
    planned: Partial<BuildPlan> = {},
    metadata?: Record<string, unknown>,
  ) => {
    plan = {
      compose_id: 'c1',
      job_id: 'build-c1',
      image_type: 'manifest',
      manifest: { version: '2', pipelines: [], fake, ...(metadata ? { metadata } : {}) },
      exports: ['image'],
      artifact: { filename: 'image', mimeType: 'application/octet-stream' },
      checkpoints: [],
      layers: [],
      ...planned,
    };
    const processor = buildProcessor({
      forgeCommand: [process.execPath, join(dir, 'forge.cjs')],
      storeDir: join(dir, 'store'),
      workDir: join(dir, 'work'),
      rundir: join(dir, 'run'),
      api: { url, token: 't' },
      logger: pino({ level: 'silent' }),
    });
    const ctx: JobContext<BuildJob> = {
      jobId: 'build-c1',
      payload: {
        type: 'build',
        composeId: 'c1',
        priority: 1,
        resources: { cpus: 1, memoryMiB: 1, diskGiB: 1 },
      },
      signal: new AbortController().signal,
      progress: async () => {},
      log: async () => {},
    };
    return processor(ctx);
  };

  it('uploads a regular file, also through a link that stays in the export, under the job’s name', async () => {
    uploads.length = 0;
    await run({ 'disk.raw': { data: 'the image\n' }, image: { symlink: 'disk.raw' } });
    assert.deepEqual(
      uploads.map((u) => [u.url, u.body.toString()]),
      [['/api/forge/v1/composes/c1/artifact?filename=image', 'the image\n']],
    );
  });

  it('reports the OSTree commit of the commit stage’s metadata, and nothing that is not a checksum', async () => {
    const commit = 'c0ffee'.repeat(10).concat('0123');
    const meta = (id: unknown) => ({
      'ostree-commit': {
        'org.osbuild.ostree.init': {},
        'org.osbuild.ostree.commit': { compose: { ref: 'debian/12/x86_64/atomic', 'ostree-commit': id } },
      },
    });
    const image = { image: { data: 'commit.tar\n' } };
    assert.equal((await run(image, {}, meta(commit))).ostreeCommit, commit);
    for (const junk of [commit.toUpperCase(), `${commit}\n`, 'a'.repeat(63), 42, null, { $gt: '' }]) {
      assert.equal('ostreeCommit' in (await run(image, {}, meta(junk))), false, JSON.stringify(junk));
    }
    assert.equal('ostreeCommit' in (await run(image)), false, 'no metadata: no commit');
  });

  it('refuses an artifact that is a symbolic link out of the export: the host file is not uploaded', async () => {
    uploads.length = 0;
    for (const link of [secret, '../../../../host/secret.txt', '/etc/shadow']) {
      await assert.rejects(run({ image: { symlink: link } }), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'FORGE_ERR_PATH_OUTSIDE');
        assert.match((err as Error).message, /artifact file "image" leads out of/);
        return true;
      });
    }
    assert.deepEqual(uploads, []);
  });

  it('refuses names that are not one path component, and what is not a regular file', async () => {
    uploads.length = 0;
    for (const filename of ['../../host/secret.txt', '/etc/shadow', 'a/../../x', '..']) {
      await assert.rejects(run({ x: { data: '' } }, { artifact: { filename, mimeType: 'text/plain' } }), {
        code: 'FORGE_ERR_UNSAFE_NAME',
      });
    }
    await assert.rejects(
      run(
        { x: { data: '' } },
        { exports: ['../../../../host'], artifact: { filename: 'secret.txt', mimeType: 'text/plain' } },
      ),
      {
        code: 'FORGE_ERR_UNSAFE_NAME',
      },
    );
    await assert.rejects(run({ image: { dir: true } }), { code: 'FORGE_ERR_ARTIFACT_MISSING' });
    await assert.rejects(run({ image: { symlink: 'nowhere' } }), { code: 'FORGE_ERR_PATH_OUTSIDE' });
    assert.deepEqual(uploads, []);
    assert.deepEqual(readdirSync(join(dir, 'host')), ['secret.txt']);
  });
});
