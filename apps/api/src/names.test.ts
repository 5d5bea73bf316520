/**
 * Names that become paths, in the API: the export and file names of a raw manifest, the file name
 * of an artifact upload, and the stored path of an image that the Weldr, Cloud and Forge routes
 * serve. Each goes through packages/manifest's one name checker; nothing outside the artifacts
 * directory is ever written or served.
 */
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { startTestApi, type TestApi } from './api.fixture.ts';
import { tinyPlanner } from './services/compose.fixture.ts';
import { postText } from './weldr/weldr.fixture.ts';

const ATTACK = '../../../../../../../../../../tmp/x/secretdir';
const mkdirStage = { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/x' }] } };
const manifestNamed = (name: string) => ({ version: '2', pipelines: [{ name, stages: [mkdirStage] }] });
const submit = (api: TestApi, body: Record<string, unknown>) =>
  api.app.inject({ method: 'POST', url: '/api/forge/v1/manifests', payload: body });

/** A host directory 0700 with a 0600 secret.txt, as in the issue; removed after the test. */
function hostSecret(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'forge-host-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secretdir = join(dir, 'secretdir');
  mkdirSync(secretdir, { mode: 0o700 });
  const secret = join(secretdir, 'secret.txt');
  writeFileSync(secret, 'the host secret\n', { mode: 0o600 });
  return { secretdir, secret };
}

test('POST /manifests: pipeline, export and file names that are not one safe path component get 400, nothing stored', async (t) => {
  const api = await startTestApi(t, {}, { lifecycle: false });
  const bad: [Record<string, unknown>, string, unknown[]][] = [
    // The attack: the pipeline's own name fails validation first.
    [
      { manifest: manifestNamed(ATTACK), exports: [ATTACK], filename: 'secret.txt' },
      'FORGE_ERR_MANIFEST_INVALID',
      ['pipelines', 0, 'name'],
    ],
    [
      { manifest: manifestNamed('..'), exports: ['..'], filename: 'x' },
      'FORGE_ERR_MANIFEST_INVALID',
      ['pipelines', 0, 'name'],
    ],
    [
      { manifest: manifestNamed('a\u0000b'), exports: ['a\u0000b'], filename: 'x' },
      'FORGE_ERR_MANIFEST_INVALID',
      ['pipelines', 0, 'name'],
    ],
    [
      { manifest: manifestNamed('x'.repeat(256)), exports: ['x'.repeat(256)], filename: 'x' },
      'FORGE_ERR_MANIFEST_INVALID',
      ['pipelines', 0, 'name'],
    ],
    // Export names are checked on their own (a pipeline may also be named by its id).
    [
      { manifest: manifestNamed('image'), exports: ['image', '../image'], filename: 'x' },
      'FORGE_ERR_MANIFEST_INVALID',
      ['exports', 1],
    ],
    [
      { manifest: manifestNamed('image'), exports: ['/etc'], filename: 'x' },
      'FORGE_ERR_MANIFEST_INVALID',
      ['exports', 0],
    ],
    // The artifact's file name: one portable name.
    ...[
      '../../etc/shadow',
      '/etc/shadow',
      'a/../../x',
      '..',
      '.',
      'a\u0000b',
      'a\nb',
      'x'.repeat(256),
      'a"b',
      'é',
    ].map((filename): [Record<string, unknown>, string, unknown[]] => [
      { manifest: manifestNamed('image'), exports: ['image'], filename },
      'FORGE_ERR_MANIFEST_INVALID',
      ['filename'],
    ]),
  ];
  for (const [body, code, path] of bad) {
    const res = await submit(api, body);
    assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 120)}: ${res.body}`);
    const answer = res.json();
    assert.equal(answer.code, code, res.body);
    assert.match(answer.message, /cannot be used as a file name/);
    assert.deepEqual(answer.details?.[0]?.path, path, res.body);
  }
  assert.equal(api.store.composes.list({ limit: 0 }).total, 0, 'nothing stored');
  const ok = await submit(api, {
    manifest: manifestNamed('image'),
    exports: ['image'],
    filename: 'disk.raw',
  });
  assert.equal(ok.statusCode, 201, ok.body);
});

test('artifact upload: a file name that is not one portable name is 400 with the reason, nothing written', async (t) => {
  const api = await startTestApi(t, {}, { lifecycle: false });
  const { id } = (
    await submit(api, { manifest: manifestNamed('image'), exports: ['image'], filename: 'x' })
  ).json();
  for (const filename of [
    '../../../etc/passwd',
    '..',
    '/etc/passwd',
    'a/b',
    'a\u0000b',
    '.hidden',
    'x'.repeat(256),
  ]) {
    const res = await api.app.inject({
      method: 'PUT',
      url: `/api/forge/v1/composes/${id}/artifact?filename=${encodeURIComponent(filename)}`,
      headers: { 'x-forge-sha256': '0'.repeat(64), 'content-type': 'application/octet-stream' },
      payload: Buffer.from('bytes'),
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, 'FORGE_ERR_UPLOAD', res.body);
    assert.match(res.json().message, /cannot be used as a file name/);
  }
  assert.equal(api.store.artifacts.list(id).length, 0);
});

test('a stored image whose path or file leads out of its compose directory is never served', async (t) => {
  const api = await startTestApi(t, {}, { composes: { planner: tinyPlanner }, lifecycle: false });
  api.store.blueprints.push(
    { name: 'base', version: '0.0.1', packages: [], modules: [], groups: [] },
    { versionGiven: '0.0.1' },
  );
  const { secret } = hostSecret(t);
  const started = await postText(
    api.app,
    '/api/v0/compose?test=2',
    JSON.stringify({ blueprint_name: 'base', compose_type: 'tar', branch: 'master' }),
    'application/json',
  );
  const uuid = (started.json() as { build_id: string }).build_id;
  const [image] = api.store.artifacts.list(uuid);
  assert.ok(image);
  // The Cloud API's download serves the same way (compose-image.ts), for its own composes only.
  const routes = [`/api/v0/compose/image/${uuid}`, `/api/v0/compose/results/${uuid}`];
  const served = async () => {
    for (const url of routes) {
      const res = await api.app.inject({ method: 'GET', url });
      // Weldr answers composer's 400 InternalServerError (what composer-cli reads as an error).
      assert.equal(res.statusCode, url.startsWith('/api/v0/') ? 400 : 500, `${url}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /the host secret/, url);
      assert.match(res.body, /missing|not in its artifacts directory/, url);
    }
  };
  // As stored, the image is served.
  assert.equal((await api.app.inject({ method: 'GET', url: routes[0] as string })).statusCode, 200);

  // The file replaced by a link to a host file.
  unlinkSync(image.path);
  symlinkSync(secret, image.path);
  await served();
  unlinkSync(image.path);
  writeFileSync(image.path, 'image again');

  // A row that names a host file.
  for (const path of [secret, join(api.config.artifactsDir, uuid, '..', '..', '..', secret)]) {
    api.store.transaction(() => {
      api.store.artifacts.delete(uuid, image.filename);
      api.store.artifacts.add({ ...image, path });
    });
    await served();
  }
  assert.equal(readFileSync(secret, 'utf8'), 'the host secret\n');
});
