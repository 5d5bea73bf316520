/**
 * Names that become paths, against the real `forge serve` (its private Redis, SQLite and one
 * worker running the real `forge build`) and the real `forge build`: issue 10's path traversal.
 *
 * The attack as filed: a raw manifest whose pipeline and export are named
 * `../../../../../../../../../../<host dir>`, one org.osbuild.mkdir stage and `"filename":
 * "secret.txt"` made the worker export the pipeline's tree into that host directory (its mode went
 * from 0700 to 0755) and upload the host's 0600 secret.txt as the compose's image. Here it and its
 * variants (`..`, absolute paths, NUL, `a/../../x`, long names) must get 400 with nothing queued
 * and the host directory untouched; a build that makes its image (or a loop device's file) a
 * symbolic link to a host file must end FAILED without uploading (or formatting) that file; and
 * `forge build` must refuse the same names with exit 2.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { forge, sandboxUnavailable, tempDir, writeJson } from './engine.fixture.ts';

const noSandbox = sandboxUnavailable();
if (noSandbox) console.log(`# skipping the real builds of the name tests: ${noSandbox}`);

const UP = '../../../../../../../../../..';

/** A host directory 0700 with a 0600 secret.txt, as in the issue. */
function hostDir(parent: string) {
  const secretdir = join(parent, 'secretdir');
  mkdirSync(secretdir);
  chmodSync(secretdir, 0o700);
  const secret = join(secretdir, 'secret.txt');
  writeFileSync(secret, 'the host secret\n');
  chmodSync(secret, 0o600);
  return { secretdir, secret };
}

/** Everything about a directory that an export into it would change: modes, entries, contents. */
function snapshot(dir: string): string {
  const entries = readdirSync(dir)
    .sort()
    .map((name) => {
      const st = lstatSync(join(dir, name));
      const sum = st.isFile()
        ? createHash('sha256')
            .update(readFileSync(join(dir, name)))
            .digest('hex')
        : '';
      return `${name} ${(st.mode & 0o7777).toString(8)} ${st.size} ${sum}`;
    });
  return [`. ${(lstatSync(dir).mode & 0o7777).toString(8)}`, ...entries].join('\n');
}

const mkdirStage = { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/secret.txt' }] } };
const manifestNamed = (name: string, stages: unknown[] = [mkdirStage]) => ({
  version: '2',
  pipelines: [{ name, stages }],
});

interface ComposeView {
  id: string;
  state: string;
  error: { code: string; message: string } | null;
  artifacts: unknown[];
}

describe('names that become paths: forge serve', { timeout: 10 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  let host: ReturnType<typeof hostDir>;
  let tcp: { url: string; token: string };
  let refused = 0;

  before(async () => {
    dir = tempDir('forge-security-names-');
    host = hostDir(dir.path);
    serve = await startServe(join(dir.path, 'state'), ['--workers', '1']);
    tcp = { url: serve.url, token: serve.token };
  });
  after(async () => {
    await serve?.stop();
    dir?.cleanup();
  });

  const post = (target: { socket: string } | typeof tcp, body: unknown) =>
    call(target, 'POST', '/api/forge/v1/manifests', JSON.stringify(body), {
      'content-type': 'application/json',
    });

  /** Jobs the queue ever saw, and images the service stored. */
  const stored = async () => {
    const counts = (await call(tcp, 'GET', '/api/forge/v1/queue')).json() as Record<string, number>;
    const artifacts = join(serve.stateDir, 'artifacts');
    let images: string[] = [];
    try {
      images = readdirSync(artifacts);
    } catch {
      // no artifacts directory yet
    }
    return {
      jobs: (counts.queued ?? 0) + (counts.active ?? 0) + (counts.completed ?? 0) + (counts.failed ?? 0),
      images,
    };
  };

  it("refuses the issue's attack over TCP and the unix socket: 400, nothing queued, the host directory untouched", async (t) => {
    const before = snapshot(host.secretdir);
    const name = `${UP}${host.secretdir}`;
    const attack = { manifest: manifestNamed(name), exports: [name], filename: 'secret.txt' };
    for (const target of [tcp, { socket: serve.socket }]) {
      const res = await post(target, attack);
      assert.equal(res.status, 400, res.text());
      const answer = res.json() as { code: string; message: string; details: { path: unknown[] }[] };
      assert.equal(answer.code, 'FORGE_ERR_MANIFEST_INVALID');
      assert.match(
        answer.message,
        /pipeline name ".*secretdir" cannot be used as a file name: it contains '\/'/,
      );
      assert.deepEqual(answer.details[0]?.path, ['pipelines', 0, 'name']);
      refused++;
    }
    assert.deepEqual(await stored(), { jobs: 0, images: [] });
    assert.equal(snapshot(host.secretdir), before);
    assert.equal(lstatSync(host.secretdir).mode & 0o777, 0o700);
    t.diagnostic(`the attack refused over ${refused} listeners`);
  });

  it('refuses the variants in pipeline names, exports and the artifact file name', async (t) => {
    const before = snapshot(host.secretdir);
    const badNames = [
      '..',
      '.',
      '',
      `${UP}${host.secretdir}`,
      host.secretdir,
      '/',
      'a\u0000b',
      'a/../../x',
      'a\nb',
      'x'.repeat(256),
    ];
    const bodies: unknown[] = [];
    for (const name of badNames) {
      bodies.push({ manifest: manifestNamed(name), exports: [name], filename: 'secret.txt' });
      if (name !== '')
        bodies.push({ manifest: manifestNamed('image'), exports: ['image', name], filename: 'x' });
      if (name !== '') bodies.push({ manifest: manifestNamed('image'), exports: ['image'], filename: name });
    }
    bodies.push({ manifest: manifestNamed('image'), exports: ['image'], filename: `${UP}${host.secret}` });
    bodies.push({ manifest: manifestNamed('image'), exports: ['image'], filename: host.secret });
    let n = 0;
    for (const body of bodies) {
      const res = await post(tcp, body);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 200)}: ${res.status} ${res.text()}`);
      n++;
    }
    refused += n;
    assert.deepEqual(await stored(), { jobs: 0, images: [] });
    assert.equal(snapshot(host.secretdir), before);
    t.diagnostic(`${n} variants refused with 400`);
  });

  it('uploads that name a path are refused; the host directory is untouched', async () => {
    const ok = await post(tcp, { manifest: manifestNamed('image', []), exports: ['image'], filename: 'x' });
    assert.equal(ok.status, 201, ok.text());
    const { id } = ok.json() as ComposeView;
    for (const filename of [`${UP}${host.secret}`, '..', host.secret, 'a\u0000b']) {
      const res = await call(
        tcp,
        'PUT',
        `/api/forge/v1/composes/${id}/artifact?filename=${encodeURIComponent(filename)}`,
        'bytes',
        { 'x-forge-sha256': createHash('sha256').update('bytes').digest('hex') },
      );
      assert.equal(res.status, 400, res.text());
      refused++;
    }
    assert.equal(readFileSync(host.secret, 'utf8'), 'the host secret\n');
  });

  /** Posts a manifest whose pipeline `image` runs `stages`, and waits for the compose to end. */
  const buildToEnd = async (stages: unknown[], filename = 'image'): Promise<ComposeView> => {
    const res = await post(tcp, { manifest: manifestNamed('image', stages), exports: ['image'], filename });
    assert.equal(res.status, 201, res.text());
    const { id } = res.json() as ComposeView;
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const view = (await call(tcp, 'GET', `/api/forge/v1/composes/${id}`)).json() as ComposeView;
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(view.state)) return view;
      assert.ok(Date.now() < deadline, `compose ${id} still ${view.state}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('a build whose image is a symbolic link to a host file ends FAILED, and the host file is not uploaded', {
    skip: noSandbox,
  }, async (t) => {
    const before = snapshot(host.secretdir);
    const started = Date.now();
    for (const target of [host.secret, `${UP}${host.secret}`, '/etc/shadow']) {
      const link = {
        type: 'org.osbuild.ln',
        options: { paths: [{ target, link_name: 'tree:///image', symbolic: true }] },
      };
      const view = await buildToEnd([link]);
      assert.equal(view.state, 'FAILED', JSON.stringify(view));
      assert.equal(view.error?.code, 'FORGE_ERR_PATH_OUTSIDE', JSON.stringify(view.error));
      assert.match(view.error?.message ?? '', /artifact file "image" leads out of/);
      assert.deepEqual(view.artifacts, []);
      const image = await call(tcp, 'GET', `/api/v0/compose/image/${view.id}`);
      assert.notEqual(image.status, 200);
      assert.doesNotMatch(image.text(), /the host secret|root:/);
      refused++;
    }
    assert.equal(snapshot(host.secretdir), before);
    t.diagnostic(`3 builds with a link out failed in ${Date.now() - started} ms`);
  });

  it('a loop device on a symbolic link to a host file ends FAILED, and the host file is not formatted', {
    skip: noSandbox,
  }, async () => {
    const disk = join(host.secretdir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(16 << 20, 0xaa));
    const sum = () => createHash('sha256').update(readFileSync(disk)).digest('hex');
    const before = sum();
    const view = await buildToEnd([
      {
        type: 'org.osbuild.ln',
        options: { paths: [{ target: disk, link_name: 'tree:///disk.img', symbolic: true }] },
      },
      {
        type: 'org.osbuild.mkfs.ext4',
        options: { uuid: 'a5a4d1a8-5a8e-4c3e-9f43-1d7b0e6f0c12' },
        devices: { device: { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } } },
      },
    ]);
    assert.equal(view.state, 'FAILED', JSON.stringify(view));
    assert.match(view.error?.message ?? '', /symbolic link .* outside the tree/);
    assert.equal(sum(), before, 'the host file is as it was');
    refused++;
  });

  it('says how many attacks were refused', (t) => {
    t.diagnostic(`${refused} attacks on forge serve refused`);
    assert.ok(refused >= 40, String(refused));
  });
});

describe('names that become paths: forge build', () => {
  let dir: ReturnType<typeof tempDir>;
  before(() => {
    dir = tempDir('forge-security-build-');
  });
  after(() => dir?.cleanup());

  it('an --export NAME that is not one safe path component is exit 2 with the reason', () => {
    const manifest = writeJson(join(dir.path, 'ok.json'), manifestNamed('image', []));
    const out = join(dir.path, 'out');
    for (const name of ['..', `${UP}/tmp/x`, '/tmp/x', 'a/../../x', 'x'.repeat(256), 'a\nb']) {
      const r = forge([
        'build',
        '--export',
        name,
        '--output-directory',
        out,
        '--store',
        join(dir.path, 'store'),
        manifest,
      ]);
      assert.equal(r.status, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        /forge build: export .* cannot be used as a file name: .* \[FORGE_ERR_UNSAFE_NAME\]/,
      );
    }
  });

  it("the issue's manifest is exit 2 with the JSON path, and the host directory is untouched", () => {
    const host = hostDir(dir.path);
    const before = snapshot(host.secretdir);
    const name = `${UP}${host.secretdir}`;
    const manifest = writeJson(join(dir.path, 'attack.json'), manifestNamed(name));
    const r = forge([
      'build',
      '--json',
      '--export',
      name,
      '--output-directory',
      join(dir.path, 'out'),
      '--store',
      join(dir.path, 'store'),
      manifest,
    ]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const v = forge(['validate', '--json', manifest]);
    assert.equal(v.status, 2);
    const result = JSON.parse(v.stdout) as { errors: { path: unknown[]; message: string }[] };
    assert.deepEqual(result.errors[0]?.path, ['pipelines', 0, 'name']);
    assert.equal(snapshot(host.secretdir), before);
  });
});
