/**
 * A blueprint with `[[source_packages]]` through the service: `forge serve` (a child process with a
 * private Redis and one real worker, the host's tools as build root), the blueprint pushed as TOML
 * over Weldr, a tar compose built by the worker with hello compiled from the archive's source; Weldr's
 * compose info lists hello among its packages with the version built, the Forge API's compose
 * lists it under `built` with its source; a source package the archive lacks is refused at start
 * with 400 SourcePackageError and nothing is kept, as is a path that is no source package. A local 3.0 (quilt) tree made here, with a
 * patch, is built and installed through a blueprint's `path` (the tar holds the patched file); a
 * local tree whose debian/rules fails ends its compose FAILED with the build log's tail as reason.
 * The Cloud API takes the same section in its request's blueprint (hello in the compose's metadata).
 * Paths are read only inside the service's `--source-dir`: one outside it, or a symbolic link in it
 * that leads out, is refused at start (400, FORGE_ERR_COMPOSE_LOCAL_SOURCE_DENIED) before it is read.
 * The local trees have hello's build dependencies, so they build in hello's stored environment.
 *
 * hello's build environment is test/engine-sbuild.test.ts's (same tools, epoch and repositories):
 * with FORGE_TEST_STATE_DIR the worker finds it in the shared store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, followEvents } from '@debian-forge/api/testing/http-client';
import { hostDebianProblem } from '@debian-forge/apt';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';
import { greetSource } from './greet-source.fixture.ts';

const skip = sandboxUnavailable() ?? hostDebianProblem();
if (skip) console.log(`# skipping the source package service test: ${skip}`);

const blueprint = (name: string, source: string) => `name = "${name}"
version = "0.0.1"

[[source_packages]]
name = "${source}"
`;

const localBlueprint = (name: string, path: string) => `name = "${name}"
version = "0.0.1"

[[source_packages]]
path = ${JSON.stringify(path)}
`;

interface PkgSpec {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  checksum: string;
}

describe('source packages through the service', { skip, timeout: 40 * 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let serve: Serve;
  let sources: string;
  before(async () => {
    dir = tempDir('forge-service-source-');
    sources = join(dir.path, 'sources');
    mkdirSync(sources);
    serve = await startServe(sharedStateDir(join(dir.path, 'state')), [
      ...['--workers', '1', '--host-buildroot', '--source-dir', sources],
    ]);
  });
  after(async () => {
    await serve?.stop();
    dir.cleanup();
  });

  const push = async (toml: string) => {
    const pushed = await call({ socket: serve.socket }, 'POST', '/api/v1/blueprints/new', toml, {
      'content-type': 'text/x-toml',
    });
    assert.equal(pushed.status, 200, pushed.text());
  };
  const start = (name: string) =>
    call(
      { url: serve.url, token: serve.token },
      'POST',
      '/api/v1/compose',
      JSON.stringify({ blueprint_name: name, compose_type: 'tar', branch: 'master' }),
      { 'content-type': 'application/json' },
    );

  /** Starts a compose of blueprint `name` and follows it to its end: its id, last state and log. */
  const compose = async (name: string) => {
    const started = await start(name);
    assert.equal(started.status, 200, started.text());
    const id = (started.json() as { build_id: string }).build_id;
    const events = await followEvents(tcp(), `/api/forge/v1/events?compose=${id}`);
    const states = events.filter((e) => e.event === 'state').map((e) => JSON.parse(e.data).state as string);
    const logs = events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).line as string);
    return { id, state: states.at(-1), trace: `${states.join(' → ')}; log:\n${logs.slice(-40).join('\n')}` };
  };
  const tcp = () => ({ url: serve.url, token: serve.token });

  it('builds hello from source into a tar and lists it, with its version, in compose info', async () => {
    await push(blueprint('hello-src', 'hello'));
    const { id, state, trace } = await compose('hello-src');
    assert.equal(state, 'COMPLETED', trace);
    const tcp = { url: serve.url, token: serve.token };

    const forgeView = await call(tcp, 'GET', `/api/forge/v1/composes/${id}`);
    const built = (forgeView.json() as { built: { name: string; version: string; source: unknown }[] }).built;
    assert.equal(built.length, 1, forgeView.text());
    const hello = built[0] as { name: string; version: string; arch: string; source: unknown };
    assert.equal(hello.name, 'hello');
    assert.deepEqual(hello.source, { name: 'hello', version: hello.version });

    const info = await call(tcp, 'GET', `/api/v1/compose/info/${id}`);
    assert.equal(info.status, 200, info.text());
    const packages = (info.json() as { deps: { packages: PkgSpec[] } }).deps.packages;
    const listed = packages.find((p) => p.name === 'hello');
    assert.ok(listed, `hello in compose info: ${packages.map((p) => p.name).join(', ')}`);
    const [upstream, revision] = hello.version.split('-');
    assert.deepEqual(
      { version: listed.version, release: listed.release, arch: listed.arch, checksum: listed.checksum },
      { version: upstream, release: revision, arch: 'amd64', checksum: '' },
    );
    assert.ok(packages.some((p) => p.name === 'libc6' && p.checksum.startsWith('sha256:')));
  });

  it('takes source packages in a Cloud API request’s blueprint, lists hello in its metadata; a path outside fails the compose', async () => {
    const cloud = (blueprint: Record<string, unknown>) =>
      call(
        tcp(),
        'POST',
        '/api/image-builder-composer/v2/compose',
        JSON.stringify({
          distribution: 'debian-12',
          image_request: { architecture: 'x86_64', image_type: 'tar', repositories: [] },
          blueprint,
        }),
        { 'content-type': 'application/json' },
      );
    const started = await cloud({ name: 'cloud-hello', source_packages: [{ name: 'hello' }] });
    assert.equal(started.status, 201, started.text());
    const { id } = started.json() as { id: string };
    const events = await followEvents(tcp(), `/api/forge/v1/events?compose=${id}`);
    const states = events.filter((e) => e.event === 'state').map((e) => JSON.parse(e.data).state as string);
    assert.equal(states.at(-1), 'COMPLETED', states.join(' → '));
    const meta = await call(tcp(), 'GET', `/api/image-builder-composer/v2/composes/${id}/metadata`);
    assert.equal(meta.status, 200, meta.text());
    const packages = (meta.json() as { packages: { name: string; version: string }[] }).packages;
    assert.ok(
      packages.some((p) => p.name === 'hello'),
      packages.map((p) => p.name).join(', '),
    );
    // The Cloud API plans after it answers (as composer's does): the compose fails, naming why.
    const refused = await cloud({ name: 'cloud-etc', source_packages: [{ path: '/etc' }] });
    assert.equal(refused.status, 201, refused.text());
    const failed = (refused.json() as { id: string }).id;
    await followEvents(tcp(), `/api/forge/v1/events?compose=${failed}`);
    const status = await call(tcp(), 'GET', `/api/image-builder-composer/v2/composes/${failed}`);
    const image = (status.json() as { image_status: { status: string; error?: Record<string, unknown> } })
      .image_status;
    assert.equal(image.status, 'failure', status.text());
    assert.match(JSON.stringify(image.error), /FORGE_ERR_COMPOSE_LOCAL_SOURCE_DENIED/);
    assert.match(JSON.stringify(image.error), /not inside the directories this service reads sources from/);
  });

  it('builds a local tree with a quilt patch through a blueprint path; the tar holds the patched file', async () => {
    const tree = greetSource(join(sources, 'greet'));
    await push(localBlueprint('greet-local', tree));
    const { id, state, trace } = await compose('greet-local');
    assert.equal(state, 'COMPLETED', trace);

    const forgeView = await call(tcp(), 'GET', `/api/forge/v1/composes/${id}`);
    assert.deepEqual((forgeView.json() as { built: unknown }).built, [
      {
        name: 'forge-greet',
        version: '1.0-1',
        arch: 'all',
        source: { name: 'forge-greet', version: '1.0-1' },
      },
    ]);
    const info = await call(tcp(), 'GET', `/api/v1/compose/info/${id}`);
    const packages = (info.json() as { deps: { packages: PkgSpec[] } }).deps.packages;
    const listed = packages.find((p) => p.name === 'forge-greet');
    assert.deepEqual(
      listed && { version: listed.version, release: listed.release, arch: listed.arch },
      { version: '1.0', release: '1', arch: 'all' },
      `forge-greet in compose info: ${packages.map((p) => p.name).join(', ')}`,
    );

    const image = await fetch(`${serve.url}/api/v1/compose/image/${id}`, {
      headers: { authorization: `Bearer ${serve.token}` },
    });
    assert.equal(image.status, 200);
    const tar = join(dir.path, 'greet.tar');
    writeFileSync(tar, Buffer.from(await image.arrayBuffer()));
    const greet = spawnSync('tar', ['-xOf', tar, '--wildcards', '*usr/bin/greet'], { encoding: 'utf8' });
    assert.equal(greet.status, 0, greet.stderr);
    assert.match(greet.stdout, /echo "hello, patched"/);
  });

  it('ends a compose of a local tree whose debian/rules fails FAILED, with the build log’s tail', async () => {
    const tree = greetSource(join(sources, 'failing'), {
      rules: '#!/usr/bin/make -f\n%:\n\t@echo "forge test: this build fails on purpose"; exit 1\n',
    });
    await push(localBlueprint('greet-failing', tree));
    const { id, state, trace } = await compose('greet-failing');
    assert.equal(state, 'FAILED', trace);
    const view = await call(tcp(), 'GET', `/api/forge/v1/composes/${id}`);
    const error = (view.json() as { error: { code: string; message: string } | null }).error;
    assert.equal(error?.code, 'FORGE_ERR_BUILD_FAILED', view.text());
    assert.match(
      error?.message ?? '',
      /stage org\.osbuild\.sbuild failed:\n(.*\n)*.*forge test: this build fails on purpose/,
    );
  });

  it('refuses a source package the archive lacks, and a path that is no source, at start: 400 SourcePackageError, nothing kept', async () => {
    await push(blueprint('no-such-src', 'forge-no-such-source'));
    const started = await start('no-such-src');
    assert.equal(started.status, 400, started.text());
    const body = started.json() as { status: boolean; errors: { id: string; msg: string }[] };
    assert.equal(body.errors[0]?.id, 'SourcePackageError');
    assert.match(body.errors[0]?.msg ?? '', /no source package 'forge-no-such-source'/);
    await push(localBlueprint('no-source-path', join(sources, 'nothing-here')));
    const notSource = await start('no-source-path');
    assert.equal(notSource.status, 400, notSource.text());
    const refused = (notSource.json() as { errors: { id: string; msg: string }[] }).errors[0];
    assert.equal(refused?.id, 'SourcePackageError');
    assert.match(
      refused?.msg ?? '',
      /nothing-here does not exist: a local source is a tree with debian\/ or a \.dsc/,
    );
    const queue = await call({ socket: serve.socket }, 'GET', '/api/v1/compose/queue');
    const all = queue.json() as { new: unknown[]; run: { blueprint: string }[] };
    assert.ok(!all.run.some((c) => ['no-such-src', 'no-source-path'].includes(c.blueprint)));
  });

  it('reads no path outside --source-dir: a path outside, or a link in it that leads out, is refused at start', async () => {
    // The service's state directory (its token) is what a path entry would be after.
    symlinkSync(serve.stateDir, join(sources, 'escape'));
    for (const [name, path] of [
      ['outside', serve.stateDir],
      ['outside-missing', join(dir.path, 'no-such-dir')],
      ['dot-dot-free-prefix', `${sources}-evil/tree`],
      ['link-out', join(sources, 'escape')],
    ] as const) {
      await push(localBlueprint(name, path));
      const started = await start(name);
      assert.equal(started.status, 400, `${name}: ${started.text()}`);
      const refused = (started.json() as { errors: { id: string; msg: string }[] }).errors[0];
      assert.equal(refused?.id, 'SourcePackageError', name);
      assert.match(refused?.msg ?? '', /not inside the directories this service reads sources from/, name);
    }
  });
});
