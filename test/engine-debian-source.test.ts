/**
 * A Debian source package through a whole manifest: a hand-written manifest (org.osbuild.mkdir, then
 * org.osbuild.debian.source) whose `org.osbuild.curl` items are the `.dsc` and files that
 * @debian-forge/apt resolved for `hello` from the host's mirror (deb-src of the same URIs). `forge
 * validate` accepts it and refuses a path leaving the tree; `forge build` fetches the files, checks
 * them and unpacks them in the sandbox, and the exported tree holds the unpacked source.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AptError,
  AptErrorCode,
  debianSourceRepositories,
  hostDebianProblem,
  openRoot,
  type ResolvedSource,
  resolveSource,
} from '@debian-forge/apt';
import { forge, LIBDIR, sandboxUnavailable, sharedStateDir, tempDir, writeJson } from './engine.fixture.ts';

let skip = sandboxUnavailable() ?? hostDebianProblem();

function manifestOf(src: ResolvedSource, options: Record<string, unknown> = {}) {
  const all = [src.dsc, ...src.files];
  const refs = all.map((f) => `sha256:${f.sha256}`);
  return {
    version: '2',
    pipelines: [
      {
        name: 'source',
        'source-epoch': 1700000000,
        stages: [
          { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/build', mode: 0o755 }] } },
          {
            type: 'org.osbuild.debian.source',
            inputs: {
              sources: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: refs },
            },
            options: { dsc: `sha256:${src.dsc.sha256}`, ...options },
          },
        ],
      },
    ],
    sources: {
      'org.osbuild.curl': { items: Object.fromEntries(all.map((f) => [`sha256:${f.sha256}`, f.url])) },
    },
  };
}

describe('a manifest unpacking a Debian source package', () => {
  let dir: ReturnType<typeof tempDir>;
  let hello: ResolvedSource;

  before(async () => {
    dir = tempDir('forge-debian-source-');
    if (skip) return;
    const root = await openRoot({
      stateDir: sharedStateDir(join(dir.path, 'state')),
      repositories: debianSourceRepositories('bookworm'),
    });
    try {
      hello = await resolveSource(root, { name: 'hello' });
    } catch (err) {
      if (!(err instanceof AptError && err.code === AptErrorCode.Update)) throw err;
      skip = `the host's Debian mirror cannot be reached: ${err.message}`;
    }
  });
  after(() => dir.cleanup());

  it('is valid, and a path leaving the tree is not', (t) => {
    if (skip) return t.skip(skip);
    const good = writeJson(join(dir.path, 'good.json'), manifestOf(hello));
    let r = forge(['validate', '--libdir', LIBDIR, good]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const bad = writeJson(join(dir.path, 'bad.json'), manifestOf(hello, { path: '/build/../../etc' }));
    r = forge(['validate', '--libdir', LIBDIR, bad]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /\.stages\[1\]\.options\.path/);
  });

  it('builds into a tree holding the unpacked source', (t) => {
    if (skip) return t.skip(skip);
    const manifest = writeJson(join(dir.path, 'hello.json'), manifestOf(hello));
    const out = join(dir.path, 'out');
    const r = forge([
      'build',
      manifest,
      '--libdir',
      LIBDIR,
      '--store',
      join(sharedStateDir(dir.path), 'store'),
      '--export',
      'source',
      '--output-directory',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const tree = join(out, 'source/build/hello-2.10');
    assert.ok(
      readFileSync(join(tree, 'debian/changelog'), 'utf8').startsWith(`hello (${hello.version}) `),
      'the changelog of the version resolved',
    );
    assert.ok(existsSync(join(tree, 'src/hello.c')));
    assert.deepEqual(readdirSync(join(out, 'source/build')), ['hello-2.10'], 'no tarball beside it');
    assert.ok(
      r.stdout.includes(
        `hello ${hello.version}: ${hello.files.length} files match the .dsc's sizes and SHA256`,
      ),
    );
  });
});
