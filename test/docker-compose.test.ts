/**
 * docker-compose.yml and the Dockerfile, checked for their shape (no Docker daemon is needed, none
 * runs here): the services and what each needs — Redis, the API as `forge serve --workers 0`, two
 * privileged workers with the host's /dev that reach the API over HTTP with the token — and every
 * named volume declared. The Dockerfile installs scripts/debian-packages on node:20-bookworm.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { REPO } from './engine-helpers.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  privileged?: boolean;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

test('docker-compose.yml: Redis, the API without workers, two privileged workers, declared volumes', () => {
  const { services } = compose;
  assert.deepEqual(Object.keys(services).sort(), ['api', 'redis', 'worker-1', 'worker-2']);
  assert.match(services.redis?.image ?? '', /^redis:/);

  const api = services.api as Service;
  assert.ok(api.build, 'the api service builds the image');
  const cmd = api.command ?? [];
  assert.equal(cmd[0], 'serve');
  assert.equal(cmd[cmd.indexOf('--workers') + 1], '0');
  assert.match(cmd[cmd.indexOf('--listen') + 1] ?? '', /^0\.0\.0\.0:8700$/);
  assert.equal(api.environment?.REDIS_URL, 'redis://redis:6379');
  assert.match(api.environment?.FORGE_API_TOKENS ?? '', /^\$\{FORGE_API_TOKEN/);
  assert.ok(api.depends_on?.includes('redis'));
  assert.ok(api.ports?.some((p) => p.endsWith(':8700')));

  for (const name of ['worker-1', 'worker-2']) {
    const w = services[name] as Service;
    assert.equal(w.image, api.image, `${name} runs the api's image`);
    assert.deepEqual(w.command, ['worker']);
    assert.equal(w.privileged, true, `${name} is privileged (loop devices, mounts)`);
    assert.ok(w.volumes?.includes('/dev:/dev'), `${name} has the host's /dev`);
    assert.equal(w.environment?.REDIS_URL, api.environment?.REDIS_URL);
    assert.equal(w.environment?.FORGE_API_URL, 'http://api:8700');
    assert.equal(w.environment?.FORGE_API_TOKEN, api.environment?.FORGE_API_TOKENS);
    assert.ok(w.depends_on?.includes('api') && w.depends_on.includes('redis'));
  }
  // Each worker has its own object store.
  const storeOf = (s: Service) => s.volumes?.find((v) => v.endsWith(':/var/lib/forge-worker'));
  assert.notEqual(storeOf(services['worker-1'] as Service), storeOf(services['worker-2'] as Service));

  // Every named volume a service mounts is declared at the top.
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes ?? []) {
      const source = v.split(':')[0] ?? '';
      if (source.startsWith('/') || source.startsWith('.')) continue;
      assert.ok(source in compose.volumes, `${name}: volume '${source}' is not declared`);
    }
  }
});

test('Dockerfile: node:20-bookworm, the Debian packages of scripts/debian-packages, set-up, forge as entry point', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  assert.match(text, /^FROM node:20-bookworm$/m);
  assert.match(text, /^COPY scripts\/debian-packages /m);
  assert.match(text, /apt-get install -y --no-install-recommends/);
  assert.match(text, /^RUN bash scripts\/setup\.sh$/m);
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(text)?.[1];
  assert.deepEqual(JSON.parse(entry ?? 'null'), ['node', '/opt/debian-forge/apps/cli/bin/forge.js']);
  // The worker and the API need these at run time; the image gets them from the list.
  const wanted = readFileSync(join(REPO, 'scripts/debian-packages'), 'utf8');
  for (const pkg of ['redis-server', 'bubblewrap', 'qemu-utils']) {
    assert.match(wanted, new RegExp(`^${pkg}$`, 'm'));
  }
});
