/**
 * Source packages resolved against the deb-src side of the host's Debian mirror (its apt sources
 * name the URIs; `deb-src` is put in their place): `hello` by its name, glibc by its binary
 * `libc6`, and the errors of an unknown name, an unknown version and a malformed request. Skips,
 * saying why, when the host names no Debian mirror or the mirror cannot be reached.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AptError, AptErrorCode } from './errors.ts';
import { type AptRoot, openRoot } from './root.ts';
import { debianSourceRepositories, resolveSource } from './source.ts';
import { hostDebianProblem } from './sources.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-source-'));
after(() => rmSync(work, { recursive: true, force: true }));

function isAptError(code: AptErrorCode, text: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AptError, `expected an AptError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, text);
    return true;
  };
}

let skip: string | undefined = hostDebianProblem();
let root: AptRoot;

describe('resolveSource', () => {
  before(async () => {
    if (skip) return;
    root = await openRoot({
      stateDir: join(work, 'state'),
      repositories: debianSourceRepositories('bookworm'),
    });
    try {
      const u = await root.update();
      console.log(`# bookworm deb-src: update ${u.seconds.toFixed(1)} s`);
    } catch (err) {
      if (!(err instanceof AptError && err.code === AptErrorCode.Update)) throw err;
      skip = `the host's Debian mirror cannot be reached: ${err.message}`;
    }
    if (skip) console.log(`# skipping: ${skip}`);
  });

  it('gives the .dsc of hello and every file it lists, pinned by the signed Sources index', async (t) => {
    if (skip) return t.skip(skip);
    const src = await resolveSource(root, { name: 'hello' });
    assert.equal(src.name, 'hello');
    assert.match(src.version, /^2\.10-\d+/);
    assert.equal(src.format, '3.0 (quilt)');
    assert.equal(src.dsc.filename, `hello_${src.version}.dsc`);
    const names = src.files.map((f) => f.filename);
    assert.ok(names.includes('hello_2.10.orig.tar.gz'), names.join(' '));
    assert.ok(names.includes(`hello_${src.version}.debian.tar.xz`), names.join(' '));
    for (const f of [src.dsc, ...src.files]) {
      assert.match(f.sha256, /^[0-9a-f]{64}$/);
      assert.ok(f.size > 0);
      // The mirror comes from the host's sources: the URL is one of theirs, with the file's name last.
      const uris = debianSourceRepositories('bookworm').flatMap((r) => r.uris);
      assert.ok(
        uris.some((u) => f.url.startsWith(u.replace(/\/*$/, '/'))),
        `${f.url} on a host mirror`,
      );
      assert.ok(f.url.endsWith(`/${f.filename}`), f.url);
    }
    assert.deepEqual(src.binaries, ['hello']);
    assert.match(src.buildRelations['Build-Depends'] ?? '', /debhelper-compat/);
    assert.ok(src.repository.length > 0);

    const pinned = await resolveSource(root, { name: 'hello', version: src.version, update: false });
    assert.deepEqual(pinned, src, 'the same with its version given');
  });

  it('takes the source of a binary package named differently (libc6 → glibc)', async (t) => {
    if (skip) return t.skip(skip);
    const src = await resolveSource(root, { name: 'libc6', update: false });
    assert.equal(src.name, 'glibc');
    assert.ok(src.binaries.includes('libc6'));
    assert.ok(src.dsc.filename.startsWith('glibc_'));
    assert.match(src.buildRelations['Build-Depends-Indep'] ?? '', /perl/);
  });

  it('lists every file although the working directory holds one of them', async (t) => {
    if (skip) return t.skip(skip);
    // apt-get source leaves out the files its working directory holds: it never runs in ours.
    const src = await resolveSource(root, { name: 'hello', update: false });
    const here = join(work, 'cwd');
    mkdirSync(here, { recursive: true });
    const dsc = Buffer.from(await (await fetch(src.dsc.url)).arrayBuffer());
    assert.equal(createHash('sha256').update(dsc).digest('hex'), src.dsc.sha256);
    writeFileSync(join(here, src.dsc.filename), dsc);
    const before = process.cwd();
    process.chdir(here);
    try {
      assert.deepEqual(await resolveSource(root, { name: 'hello', update: false }), src);
    } finally {
      process.chdir(before);
    }
    assert.ok(existsSync(join(here, src.dsc.filename)));
  });

  it('names an unknown source package, an unknown version and a malformed request', async (t) => {
    if (skip) return t.skip(skip);
    await assert.rejects(
      resolveSource(root, { name: 'forge-no-such-source', update: false }),
      isAptError(AptErrorCode.SourceNotFound, /no source package 'forge-no-such-source'/),
    );
    await assert.rejects(
      resolveSource(root, { name: 'hello', version: '0.1-1', update: false }),
      isAptError(
        AptErrorCode.SourceVersion,
        /no version 0\.1-1 of source package 'hello' \(known: hello 2\.10-/,
      ),
    );
    await assert.rejects(
      resolveSource(root, { name: 'Hello; rm', update: false }),
      isAptError(AptErrorCode.Request, /bad source package name/),
    );
    await assert.rejects(
      resolveSource(root, { name: 'hello', version: '1 2', update: false }),
      isAptError(AptErrorCode.Request, /not a Debian version/),
    );
  });
});

describe('a root without deb-src entries', () => {
  it('is refused before apt runs', async (t) => {
    if (hostDebianProblem()) return t.skip(hostDebianProblem());
    const binaries = debianSourceRepositories('bookworm').map((r) => ({ ...r, types: ['deb' as const] }));
    const plain = await openRoot({ stateDir: join(work, 'state'), repositories: binaries });
    await assert.rejects(
      resolveSource(plain, { name: 'hello' }),
      isAptError(AptErrorCode.Request, /has no deb-src repository/),
    );
  });
});
