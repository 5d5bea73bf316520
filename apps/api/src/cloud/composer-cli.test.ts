/**
 * composer-cli's Cloud path, over a real Cloud API socket: the requests its cloud client
 * (osbuild/weldr-client, cloud/compose.go) sends for `compose start FILE.toml TYPE`, `info`, `wait`,
 * `list`, `image` and `delete`, and the answers read as it reads them: the fields it decodes, its
 * status names, and its error text (`reason`, a newline, `details` as a string), on which `delete`
 * decides whether to ask Weldr instead ("job does not exist").
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestApi, type TestApi } from '../api.fixture.ts';
import { listen } from '../server.ts';
import { startTestWorker, tinyPlanner, uploadingBuild, waitForState } from '../services/compose.fixture.ts';
import { CLOUD_PREFIX } from './prefix.ts';

interface Answer {
  status: number;
  body: string;
}

/** One request on a unix socket, with composer-cli's headers. */
function call(socketPath: string, method: string, path: string, body?: string): Promise<Answer> {
  // GetJSON and PostJSON send Content-Type: application/json; DeleteRaw sends no header.
  const headers: Record<string, string> = method === 'DELETE' ? {} : { 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * composer-cli's ErrorToString: `reason`, a newline, `details`. Its `details` is a Go string, so
 * any other JSON there would leave composer-cli with a decoding error instead of the reason.
 */
function errorToString(body: string): string {
  const r = JSON.parse(body) as { kind?: string; reason?: string; details?: unknown };
  assert.equal(r.kind, 'Error', body);
  assert.ok(
    r.details === undefined || typeof r.details === 'string',
    `details composer-cli can decode: ${body}`,
  );
  return r.reason ? `${r.reason}\n${r.details ?? ''}` : String(r.details ?? '');
}

/** The client's 400, 401, 403, 404 and 500 are errors with that text; other statuses, their body. */
function clientError(method: string, path: string, a: Answer): string | undefined {
  const ok = method === 'POST' ? [200, 201] : [200];
  if (ok.includes(a.status)) return undefined;
  const text = [400, 401, 403, 404, 500].includes(a.status) ? errorToString(a.body) : a.body;
  return `${method} ${path} failed with status ${a.status}: ${text}`;
}

/** The cloud client of composer-cli, over `socket`. */
function cloudClient(socket: string) {
  const route = (tail: string) => `/api/image-builder-composer/v2/${tail}`;
  const json = async (method: string, tail: string, body?: string) => {
    const a = await call(socket, method, route(tail), body);
    return { a, error: clientError(method, `api/image-builder-composer/v2/${tail}`, a) };
  };
  return {
    /** StartCompose: the blueprint as parsed from TOML, the host's distro and arch, a local target. */
    async startCompose(blueprint: unknown, composeType: string, sizeMiB = 0) {
      const imageRequest: Record<string, unknown> = {
        architecture: 'x86_64',
        image_type: composeType,
        ...(sizeMiB > 0 ? { size: sizeMiB * 1024 * 1024 } : {}),
        repositories: [],
        upload_targets: [{ type: 'local', upload_options: {} }],
      };
      const body = JSON.stringify({ distribution: 'debian-12', blueprint, image_requests: [imageRequest] });
      return json('POST', 'compose', body);
    },
    composeInfo: (id: string) => json('GET', `composes/${id}`),
    metadata: (id: string) => json('GET', `composes/${id}/metadata`),
    list: () => json('GET', 'composes/'),
    deleteCompose: (id: string) => json('DELETE', `composes/${id}`),
    download: (id: string) => call(socket, 'GET', route(`composes/${id}/download`)),
    post: (tail: string, body: unknown) => json('POST', tail, JSON.stringify(body)),
    /** ComposeWait: polls the status until it is no longer `pending`. */
    async wait(id: string, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { a, error } = await this.composeInfo(id);
        if (error) return { error };
        const status = (JSON.parse(a.body) as { status: string }).status;
        if (status !== 'pending') return { status };
        if (Date.now() > deadline) return { error: `timeout after ${timeoutMs} ms` };
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/**
 * The ids `compose list` prints (cmd/composer-cli/compose/list.go): the Cloud list's, then Weldr's
 * queue, finished and failed lists (weldr-client's ListComposes).
 */
async function listedIds(where: { socket?: string; cloudSocket?: string }): Promise<string[]> {
  const cloud = await call(where.cloudSocket as string, 'GET', `${CLOUD_PREFIX}/composes/`);
  const ids = (JSON.parse(cloud.body) as { id: string }[]).map((c) => c.id);
  for (const [path, keys] of [
    ['/api/v1/compose/queue', ['new', 'run']],
    ['/api/v1/compose/finished', ['finished']],
    ['/api/v1/compose/failed', ['failed']],
  ] as const) {
    const body = JSON.parse((await call(where.socket as string, 'GET', path)).body) as Record<
      string,
      { id: string }[]
    >;
    for (const key of keys) ids.push(...(body[key] ?? []).map((c) => c.id));
  }
  return ids;
}

/** composer-cli's StatusMap from the Cloud status to the Weldr one it prints. */
const STATUS_MAP: Record<string, string> = { pending: 'RUNNING', success: 'FINISHED', failure: 'FAILED' };

/** What `compose info` prints from the metadata and the status (cmd/composer-cli/compose/info.go). */
function infoLines(id: string, metadata: string, status: string): string[] {
  const m = JSON.parse(metadata) as {
    packages?: unknown[];
    request: {
      blueprint: { name: string; version?: string; packages?: { name: string; version?: string }[] };
      image_requests: { image_type: string; size?: number; upload_targets?: { type: string }[] }[];
    };
  };
  const image = m.request.image_requests[0];
  const pkg = (p: { name: string; version?: string }) => (p.version ? `${p.name}-${p.version}` : p.name);
  const uploads = (image?.upload_targets ?? []).map((t) => t.type);
  return [
    [
      id,
      STATUS_MAP[(JSON.parse(status) as { status: string }).status] ?? 'Unknown',
      m.request.blueprint.name,
      m.request.blueprint.version ?? '',
      image?.image_type ?? '',
      image?.size ? String(image.size) : '',
    ].join(' '),
    ...(uploads.length > 0 && uploads[0] !== 'local' ? ['Uploads:', ...uploads] : []),
    'Packages:',
    ...(m.request.blueprint.packages ?? []).map(pkg),
  ];
}

/** The service with a Cloud API socket beside its own, and a worker whose builds wait for `release`. */
async function startCloudSocket(t: Parameters<typeof startTestApi>[0]) {
  const api = await startTestApi(
    t,
    (dir) => ({
      socket: { path: join(dir, 'api.socket'), mode: 0o660 },
      cloudSocket: { path: join(dir, 'cloudapi', 'api.socket'), mode: 0o660 },
    }),
    { composes: { planner: tinyPlanner } },
  );
  const gates: (() => void)[] = [];
  let held = false;
  await startTestWorker(api, async (ctx) => {
    if (held) await new Promise<void>((r) => gates.push(r));
    return uploadingBuild(() => api)(ctx);
  });
  const where = await listen(api.app, api.config);
  return {
    api,
    where,
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      for (const open of gates.splice(0)) open();
    },
  };
}

/** `bp.toml` as composer-cli's TOML decoder hands it on: a map, encoded in key order. */
const BLUEPRINT = {
  name: 'tmux-image',
  packages: [{ name: 'tmux', version: '*' }],
  version: '0.0.1',
};

test('composer-cli over the Cloud API socket: compose start FILE.toml TYPE, info, wait, list, image, delete', async (t) => {
  const { api, where } = await startCloudSocket(t);
  assert.ok(where.cloudSocket);
  const cli = cloudClient(where.cloudSocket);

  const started = await cli.startCompose(BLUEPRINT, 'qcow2', 4096);
  assert.equal(started.error, undefined);
  const { kind, id } = JSON.parse(started.a.body) as { kind: string; id: string };
  assert.equal(kind, 'ComposeId');

  const waited = await cli.wait(id);
  assert.deepEqual(waited, { status: 'success' }, '`compose wait` prints "<id> success"');
  assert.equal(api.store.composes.get(id)?.state, 'COMPLETED');

  const meta = await cli.metadata(id);
  assert.equal(meta.error, undefined);
  const status = await cli.composeInfo(id);
  assert.deepEqual(infoLines(id, meta.a.body, status.a.body), [
    `${id} FINISHED tmux-image 0.0.1 qcow2 ${4096 * 1024 * 1024}`,
    'Packages:',
    'tmux-*',
  ]);
  const request = (JSON.parse(meta.a.body) as { request: Record<string, unknown> }).request;
  assert.deepEqual(request.blueprint, BLUEPRINT, 'the request as submitted');

  const list = await cli.list();
  assert.equal(list.error, undefined);
  assert.deepEqual(
    (JSON.parse(list.a.body) as { id: string; status: string }[]).map((c) => [c.id, c.status]),
    [[id, 'success']],
    'an array of ComposeStatus',
  );
  assert.deepEqual(await listedIds(where), [id], '`compose list` shows it once: Weldr does not list it');

  const image = await cli.download(id);
  assert.equal(image.status, 200);
  assert.equal(image.body, `image bytes of ${id}\n`);

  const deleted = await cli.deleteCompose(id);
  assert.equal(deleted.error, undefined);
  assert.deepEqual(JSON.parse(deleted.a.body), {
    id,
    kind: 'ComposeDeleteStatus',
    href: `${CLOUD_PREFIX}/composes/delete/${id}`,
  });
  assert.equal(api.store.composes.get(id), undefined, 'gone with its row');
  assert.equal(api.store.artifacts.list(id).length, 0, 'and its image');
  const again = await cli.deleteCompose(id);
  assert.match(again.error ?? '', /status 404: .*\njob does not exist$/s);
  assert.deepEqual(JSON.parse((await cli.list()).a.body), []);
});

test('composer-cli over the Cloud API socket: Weldr composes are not the Cloud API’s, so composer-cli asks Weldr', async (t) => {
  const { api, where } = await startCloudSocket(t);
  const cli = cloudClient(where.cloudSocket as string);
  const weldr = (method: string, path: string, body: string) =>
    call(where.socket as string, method, path, body);
  assert.equal((await weldr('POST', '/api/v1/blueprints/new', JSON.stringify(BLUEPRINT))).status, 200);
  const started = await weldr(
    'POST',
    '/api/v1/compose?test=2',
    JSON.stringify({ blueprint_name: 'tmux-image', compose_type: 'tar', branch: 'master' }),
  );
  assert.equal(started.status, 200, started.body);
  const weldrId = (JSON.parse(started.body) as { build_id: string }).build_id;
  assert.equal(api.store.composes.get(weldrId)?.state, 'COMPLETED');

  for (const answer of [
    await cli.composeInfo(weldrId),
    await cli.metadata(weldrId),
    await cli.deleteCompose(weldrId),
  ]) {
    // `compose delete` asks Weldr exactly when this is in the error; `info` and `wait` on any error.
    assert.match(
      answer.error ?? '',
      /failed with status 404: compose \S+ does not exist\njob does not exist$/,
    );
  }
  assert.equal((await cli.wait(weldrId)).error?.includes('job does not exist'), true);
  assert.equal((await cli.download(weldrId)).status, 404);
  assert.deepEqual(JSON.parse((await cli.list()).a.body), [], 'not in the Cloud list');
  assert.deepEqual(await listedIds(where), [weldrId], '`compose list` shows it once, from Weldr');
  assert.ok(api.store.composes.get(weldrId), 'the Cloud delete left the Weldr compose alone');
});

test('composer-cli over the Cloud API socket: bad input gets the Cloud error it can print; nothing is stored', async (t) => {
  const { api, where, hold, release } = await startCloudSocket(t);
  const cli = cloudClient(where.cloudSocket as string);
  const image = { architecture: 'x86_64', image_type: 'qcow2', repositories: [] };
  const refused = async (body: unknown, id: string, text: RegExp) => {
    const { a, error } = await cli.post('compose', body);
    assert.equal(a.status, 400, a.body);
    assert.equal((JSON.parse(a.body) as { id: string }).id, id);
    assert.match(error ?? '', text);
  };
  const compose = (imageRequest: Record<string, unknown>) => ({
    distribution: 'debian-12',
    blueprint: BLUEPRINT,
    image_requests: [{ ...image, ...imageRequest }],
  });
  await refused(
    compose({ upload_targets: [{ type: 'aws', upload_options: { region: 'eu-west-1' } }] }),
    'InvalidUploadTarget',
    /upload target type "aws" is not supported: the only one is "local"/,
  );
  await refused(
    compose({ upload_targets: [{ type: 'local' }, { type: 'local' }] }),
    'InvalidUploadTarget',
    /one upload target at most/,
  );
  // composer-cli's `compose start FILE.toml TYPE NAME PROFILE.toml`: upload options, no target.
  await refused(
    compose({ upload_options: { region: 'eu-west-1' } }),
    'InvalidUploadTarget',
    /leave out upload_options/,
  );
  await refused(
    compose({ upload_targets: [{ type: 'local', upload_options: 7 }] }),
    'BadRequest',
    /upload_options/,
  );
  await refused(compose({ upload_targets: [{ upload_options: {} }] }), 'BadRequest', /type/);
  // A blueprint file the blueprint schema refuses: the problems are lines composer-cli prints.
  const badFile = await cli.startCompose({ ...BLUEPRINT, packages: [{ name: 'Bad Name' }] }, 'qcow2');
  assert.match(
    badFile.error ?? '',
    /^POST api\/image-builder-composer\/v2\/compose failed with status 400: .+\n\.blueprint\.packages\[0\]\.name: invalid Debian package name "Bad Name"/,
  );
  assert.equal(api.store.composes.list().total, 0, 'refused requests store nothing');

  for (const bad of ['not-an-id', '..', '00000000-0000-0000-0000-00000000000g']) {
    const info = await cli.composeInfo(bad);
    assert.match(info.error ?? '', /status (400|404)/, bad);
    assert.doesNotMatch(info.error ?? '', /job does not exist/, 'not a compose id at all: no fallback');
    const del = await cli.deleteCompose(bad);
    assert.match(del.error ?? '', /status (400|404)/, bad);
  }
  const unknown = await cli.deleteCompose('3f2504e0-4f89-41d3-9a0c-0305e82c3301');
  assert.match(
    unknown.error ?? '',
    /status 404: .*\njob does not exist$/s,
    'unknown: composer-cli asks Weldr',
  );

  // A plain-text password never comes back in the request.
  const secret = 'plain-secret-cli-7';
  const withUser = await cli.startCompose(
    { ...BLUEPRINT, customizations: { user: [{ name: 'admin', password: secret }] } },
    'qcow2',
  );
  assert.equal(withUser.error, undefined);
  const userId = (JSON.parse(withUser.a.body) as { id: string }).id;
  const meta = await cli.metadata(userId);
  assert.doesNotMatch(meta.a.body, new RegExp(secret));
  assert.match(meta.a.body, /"password":"\$6\$/);
  assert.doesNotMatch(JSON.stringify(api.store.composes.get(userId)), new RegExp(secret));
  await cli.wait(userId);

  // Deleting a compose that is still building: refused, the compose builds on.
  hold();
  const running = await cli.startCompose(BLUEPRINT, 'qcow2');
  const runningId = (JSON.parse(running.a.body) as { id: string }).id;
  await waitForState(api, runningId, 'BUILDING');
  const early = await cli.deleteCompose(runningId);
  assert.match(
    early.error ?? '',
    /status 400: compose \S+ is BUILDING: only a finished compose can be deleted/,
  );
  assert.doesNotMatch(early.error ?? '', /job does not exist/);
  release();
  assert.deepEqual(await cli.wait(runningId), { status: 'success' });
  assert.equal((await cli.deleteCompose(runningId)).error, undefined);
});

test('the Cloud API socket serves the Cloud API only, without a token', async (t) => {
  const api: TestApi = await startTestApi(t, (dir) => ({
    tokens: ['s3cret-token'],
    cloudSocket: { path: join(dir, 'cloud.socket'), mode: 0o660 },
  }));
  const where = await listen(api.app, api.config);
  const socket = where.cloudSocket as string;
  const dists = await call(socket, 'GET', `${CLOUD_PREFIX}/distributions`);
  assert.equal(dists.status, 200, 'trusted as the unix socket is');
  for (const path of [
    '/api/status',
    '/api/v1/blueprints/list',
    '/api/forge/v1/composes',
    `${CLOUD_PREFIX}/../../v1/blueprints/list`,
    `${CLOUD_PREFIX}/%2e%2e/%2E%2E/v1/blueprints/list`,
    `${CLOUD_PREFIX}/./distributions`,
    `${CLOUD_PREFIX}/%zz`,
    '/api/image-builder-composer/v2x/distributions',
  ]) {
    const a = await call(socket, 'GET', path);
    assert.equal(a.status, 404, path);
    assert.match(errorToString(a.body), /no route GET .* on the Cloud API socket/, path);
  }
  const unknown = await call(socket, 'GET', `${CLOUD_PREFIX}/nothing`);
  assert.equal(unknown.status, 404);
  assert.equal(JSON.parse(unknown.body).kind, 'Error');
  assert.equal(api.app.server.listening, false, 'no other listener was opened');
});
