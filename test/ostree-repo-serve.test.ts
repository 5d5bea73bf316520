/**
 * The OSTree repository of a real `forge serve` on TCP, pulled by the real `ostree` with the token
 * in the remote's URL. A state directory from before the repository (two COMPLETED
 * debian-atomic-commit composes with their commit.tar artifacts, as a worker's results leave them,
 * the second the child of the first) is caught up at start-up; the ref then follows deletes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { call } from '@debian-forge/api/testing/http-client';
import { type Serve, startServe } from '@debian-forge/cli/testing/serve';
import { commitFiles, hasOstree } from '@debian-forge/engine/testing';
import { run } from '@debian-forge/host';
import { openStore } from '@debian-forge/store';

const skip = hasOstree ? undefined : 'ostree is not installed';
const REF = 'debian/12/x86_64/example';
const REPO = '/api/forge/v1/ostree/repo';

let dir: string;
let serve: Serve;
const made: { uuid: string; commit: string }[] = [];
/** The compose and commit of version `n`. */
const versionOf = (n: 1 | 2) => made[n - 1] as { uuid: string; commit: string };

/** Commits a version to the build repository and records it as a COMPLETED compose with its tar. */
async function version(stateDir: string, n: number): Promise<void> {
  const tree = join(dir, 'build');
  const commit = commitFiles(join(tree, 'repo'), join(dir, 'content'), REF, {
    'usr/share/version': `${n}\n`,
  });
  const store = openStore(join(stateDir, 'state.sqlite'));
  try {
    const c = store.composes.create({
      blueprintName: 'atomic',
      blueprintVersion: `0.0.${n}`,
      imageType: 'debian-atomic-commit',
      distro: 'debian-12',
      arch: 'x86_64',
      ostree: { ref: REF, ...(made.length > 0 ? { parent: made.at(-1)?.commit } : {}) },
      api: 'weldr',
    });
    const path = join(stateDir, 'artifacts', c.uuid, 'commit.tar');
    mkdirSync(join(stateDir, 'artifacts', c.uuid), { recursive: true });
    await run(['tar', '--create', `--file=${path}`, `--directory=${tree}`, '--', '.']);
    const bytes = readFileSync(path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    store.artifacts.add({
      uuid: c.uuid,
      filename: 'commit.tar',
      path,
      size: bytes.length,
      sha256,
      mimeType: 'application/x-tar',
    });
    for (const s of ['QUEUED', 'BUILDING'] as const) store.composes.transition(c.uuid, s);
    store.composes.transition(c.uuid, 'COMPLETED', { ostreeCommit: commit });
    made.push({ uuid: c.uuid, commit });
  } finally {
    store.close();
  }
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(process.env.FORGE_TEST_STATE_DIR ?? tmpdir(), 'ostree-repo-serve-'));
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  await version(stateDir, 1);
  await version(stateDir, 2);
  serve = await startServe(stateDir, ['--workers', '0']);
});

after(async () => {
  if (skip) return;
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Refs = { repo: string; refs: { ref: string; head: string | null; published: boolean }[] };

/** The ref view once the repository has caught up with `head` (start-up publishes off the request path). */
async function refsWith(head: string | null): Promise<Refs> {
  for (let i = 0; ; i++) {
    const refs = (
      await call({ url: serve.url, token: serve.token }, 'GET', '/api/forge/v1/ostree/refs')
    ).json() as Refs;
    if ((refs.refs[0]?.head ?? null) === head || i > 200) return refs;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A machine's repository with the service as remote `forge` at `url`: pulls REF, returns its commit. */
async function pull(
  url: string,
): Promise<{ exitCode: number; stderr: string; commit?: string; log?: string }> {
  const repo = mkdtempSync(join(dir, 'machine-'));
  await run(['ostree', 'init', `--repo=${repo}`, '--mode=archive']);
  await run(['ostree', 'remote', 'add', `--repo=${repo}`, '--no-gpg-verify', 'forge', url]);
  const pulled = await run(['ostree', 'pull', `--repo=${repo}`, 'forge', REF], { okCodes: 'any' });
  if (pulled.exitCode !== 0) return pulled;
  const commit = (await run(['ostree', 'rev-parse', `--repo=${repo}`, `forge:${REF}`])).stdout.trim();
  const log = (await run(['ostree', 'log', `--repo=${repo}`, `forge:${REF}`])).stdout;
  return { ...pulled, commit, log };
}

const withToken = (token: string) => `${serve.url.replace('http://', `http://forge:${token}@`)}${REPO}`;

test('forge serve publishes the commits it finds at start-up; ostree pull with the token in the URL gets the newest with its parent', {
  skip,
}, async () => {
  const [v1, v2] = [versionOf(1), versionOf(2)];
  const refs = await refsWith(v2.commit);
  assert.equal(refs.repo, REPO);
  const [ref] = refs.refs;
  assert.deepEqual([ref?.ref, ref?.head, ref?.published], [REF, v2.commit, true]);
  const pulled = await pull(withToken(serve.token));
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.equal(pulled.commit, v2.commit);
  assert.match(pulled.log ?? '', new RegExp(`Parent: +${v1.commit}`));
});

test('ostree pull without a token, or with a wrong one, is refused (401)', { skip }, async () => {
  for (const url of [`${serve.url}${REPO}`, withToken('wrong-token')]) {
    const pulled = await pull(url);
    assert.notEqual(pulled.exitCode, 0, url);
    assert.match(pulled.stderr, /401/, url);
  }
});

test('deleting the newest compose moves the ref back: machines pull the version before', {
  skip,
}, async () => {
  const [v1, v2] = [versionOf(1), versionOf(2)];
  const del = await call(
    { url: serve.url, token: serve.token },
    'DELETE',
    `/api/v1/compose/delete/${v2.uuid}`,
  );
  assert.equal(del.status, 200, del.text());
  assert.equal((await refsWith(v1.commit)).refs[0]?.head, v1.commit);
  const pulled = await pull(withToken(serve.token));
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.equal(pulled.commit, v1.commit);
});
