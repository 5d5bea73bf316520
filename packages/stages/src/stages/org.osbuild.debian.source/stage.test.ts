/**
 * org.osbuild.debian.source on real source packages: Debian's `hello` as the host's mirror serves it
 * (resolved by @debian-forge/apt, cached under the temporary directory), and a package the test
 * derives from it with one quilt patch and a changelog entry of its own (built with dpkg-source -b,
 * clear-signed with a key the test makes with gpg). Each test unpacks into a fresh tree.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it, type TestContext } from 'node:test';
import type { InputArgument } from '../../shared/arguments.ts';
import { DebsUnavailable, debInput, hostMirror } from '../../shared/debs.fixture.ts';
import { type CachedSource, sourcePackage } from '../../shared/sources.fixture.ts';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { options } from './schema.ts';
import { main } from './stage.ts';

const SUITE = hostMirror()?.suite ?? 'bookworm';
const PATCHED = 'Hello from a patched source!';

let skip: string | undefined = ['dpkg-source', 'gpg', 'gpgv', 'patch', 'xz']
  .filter((p) => !hasProgram(p))
  .map((p) => `${p} is not installed`)[0];
let hello: CachedSource;
/** A directory of the suite's work: keys, the derived package. */
const work = mkdtempSync(join(tmpdir(), 'forge-debian-source-'));
const gnupg = join(work, 'gnupg');

function ready(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return !skip;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function gpg(args: string[], input?: string): string {
  return execFileSync(
    'gpg',
    ['--homedir', gnupg, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
    {
      encoding: 'utf8',
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    },
  );
}

/** A new signing key; its armoured public key. */
function makeKey(uid: string): string {
  gpg(['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
  return gpg(['--armor', '--export', uid]);
}

/** A file pinned by SHA256, written into the suite's work directory. */
interface Pinned {
  filename: string;
  sha256: string;
  path: string;
}

function pin(filename: string, content: Buffer | string): Pinned {
  const path = join(work, 'pinned', sha256(content));
  mkdirSync(join(work, 'pinned'), { recursive: true });
  writeFileSync(path, content);
  return { filename, sha256: sha256(content), path };
}

/** Derived from hello: version `${hello}+forge1`, one quilt patch changing the greeting. */
let derived: { dscText: string; files: Pinned[]; version: string };

function deriveFromHello(): void {
  const dir = join(work, 'derive');
  mkdirSync(dir, { recursive: true });
  for (const f of [hello.dsc, ...hello.files]) copyFileSync(f.path, join(dir, f.filename));
  execFileSync('dpkg-source', ['--no-check', '-x', hello.dsc.filename, 'hello'], {
    cwd: dir,
    stdio: 'ignore',
  });
  const tree = join(dir, 'hello');
  const version = `${hello.resolved.version}+forge1`;
  writeFileSync(
    join(tree, 'debian/changelog'),
    `hello (${version}) unstable; urgency=medium\n\n  * A greeting of our own.\n\n -- Forge Test <test@forge.invalid>  Mon, 07 Dec 2026 12:00:00 +0000\n\n${readFileSync(join(tree, 'debian/changelog'), 'utf8')}`,
  );
  mkdirSync(join(tree, 'debian/patches'), { recursive: true });
  const original = readFileSync(join(tree, 'src/hello.c'), 'utf8');
  assert.ok(original.includes('Hello, world!'), 'hello.c has the greeting the patch changes');
  writeFileSync(join(work, 'hello.c'), original.replace('Hello, world!', PATCHED));
  const diff = spawnSync(
    'diff',
    [
      '-u',
      '--label',
      'a/src/hello.c',
      '--label',
      'b/src/hello.c',
      join(tree, 'src/hello.c'),
      join(work, 'hello.c'),
    ],
    {
      encoding: 'utf8',
    },
  ).stdout;
  writeFileSync(join(tree, 'debian/patches/forge-greeting.patch'), `Description: our greeting\n---\n${diff}`);
  writeFileSync(join(tree, 'debian/patches/series'), 'forge-greeting.patch\n');
  // The tarballs of the new version: the same orig (so no .asc beside it), a new debian tarball.
  rmSync(join(dir, 'hello_2.10.orig.tar.gz.asc'));
  execFileSync('dpkg-source', ['-b', 'hello'], { cwd: dir, stdio: 'ignore' });
  const dscName = `hello_${version}.dsc`;
  const dscText = readFileSync(join(dir, dscName), 'utf8');
  const names = readdirSync(dir).filter(
    (n) => n.startsWith('hello_') && n !== dscName && !n.endsWith('.asc'),
  );
  const files = names.map((n) => pin(n, readFileSync(join(dir, n))));
  derived = { dscText, files, version };
}

/** Every file of hello, laid out as the engine lays out the input `sources`. */
function helloInput(root: TestRoot, name = 'sources'): InputArgument {
  return debInput(join(root.dir, 'inputs', name), [hello.dsc, ...hello.files]);
}

/** The input of a .dsc text and the derived package's files; the .dsc's reference. */
function derivedInput(
  root: TestRoot,
  dscText: string,
  files = derived.files,
): { input: InputArgument; dsc: string } {
  const dsc = pin('x.dsc', dscText);
  return {
    input: debInput(join(root.dir, 'inputs', 'sources'), [dsc, ...files]),
    dsc: `sha256:${dsc.sha256}`,
  };
}

/** `dscText` with the SHA256 of `filename` in its Checksums-Sha256 replaced by `sha`. */
function withChecksum(dscText: string, filename: string, sha: string): string {
  return dscText.replace(
    new RegExp(`^ [0-9a-f]{64}( \\d+ ${filename.replace(/[.+]/g, '\\$&')})$`, 'm'),
    ` ${sha}$1`,
  );
}

describe('org.osbuild.debian.source', { timeout: 10 * 60 * 1000 }, () => {
  let root: TestRoot;
  let signerKey = '';
  let otherKey = '';

  before(async () => {
    if (skip) return;
    try {
      hello = await sourcePackage('hello', SUITE);
    } catch (err) {
      if (!(err instanceof DebsUnavailable)) throw err;
      skip = `no Debian source package to test with: ${err.message}`;
      process.stdout.write(`# skipping org.osbuild.debian.source tests: ${skip}\n`);
      return;
    }
    mkdirSync(gnupg, { mode: 0o700 });
    signerKey = makeKey('Forge Signer <signer@forge.invalid>');
    otherKey = makeKey('Forge Other <other@forge.invalid>');
    deriveFromHello();
  });
  after(() => {
    if (existsSync(gnupg)) spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'all']);
    rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    root = testRoot('forge-debian-source-');
  });
  afterEach(() => root.cleanup());

  it("unpacks Debian's hello from the archive into /build/<source>-<upstream version>", (t) => {
    if (!ready(t)) return;
    const meta = main(
      root.args({ dsc: `sha256:${hello.dsc.sha256}` }, { inputs: { sources: helloInput(root) } }),
    );
    assert.deepEqual(meta, {
      source: 'hello',
      version: hello.resolved.version,
      format: '3.0 (quilt)',
      path: '/build/hello-2.10',
    });
    const changelog = readFileSync(join(root.tree, 'build/hello-2.10/debian/changelog'), 'utf8');
    assert.ok(changelog.startsWith(`hello (${hello.resolved.version}) `), changelog.slice(0, 80));
    assert.ok(
      readFileSync(join(root.tree, 'build/hello-2.10/src/hello.c'), 'utf8').includes('Hello, world!'),
    );
    assert.deepEqual(
      readdirSync(join(root.tree, 'build')),
      ['hello-2.10'],
      'no tarball copied into the tree',
    );
  });

  it('applies the quilt patches of a derived package, into the path given', (t) => {
    if (!ready(t)) return;
    const { input, dsc } = derivedInput(root, derived.dscText);
    const meta = main(root.args({ dsc, path: '/usr/src/forge/hello' }, { inputs: { sources: input } }));
    assert.equal(meta.version, derived.version);
    const dir = join(root.tree, 'usr/src/forge/hello');
    assert.ok(readFileSync(join(dir, 'debian/changelog'), 'utf8').startsWith(`hello (${derived.version}) `));
    assert.ok(readFileSync(join(dir, 'src/hello.c'), 'utf8').includes(PATCHED), 'the patch is applied');
    assert.equal(readFileSync(join(dir, '.pc/applied-patches'), 'utf8'), 'forge-greeting.patch\n');
  });

  it('checks every file against the .dsc before unpacking, naming the file', (t) => {
    if (!ready(t)) return;
    const tarball = derived.files.find((f) => f.filename.endsWith('.debian.tar.xz')) as Pinned;
    const unpack = (dscText: string, files?: Pinned[]) => {
      const r = testRoot('forge-debian-source-bad-');
      try {
        const { input, dsc } = derivedInput(r, dscText, files);
        main(r.args({ dsc }, { inputs: { sources: input } }));
      } finally {
        assert.deepEqual(readdirSync(r.tree), [], 'nothing unpacked');
        r.cleanup();
      }
    };
    // The .dsc names a checksum the file it lists does not have; the input holds those bytes under it.
    const altered = sha256('not the tarball');
    const lying = { ...tarball, sha256: altered };
    assert.throws(
      () => unpack(withChecksum(derived.dscText, tarball.filename, altered), [...derived.files, lying]),
      new RegExp(
        `${tarball.filename.replace(/[.+]/g, '\\$&')}: SHA256 ${tarball.sha256}, the \\.dsc says ${altered}`,
      ),
    );
    assert.throws(
      () => unpack(withChecksum(derived.dscText, tarball.filename, altered)),
      new RegExp(
        `${tarball.filename.replace(/[.+]/g, '\\$&')}: the input 'sources' holds no file sha256:${altered}`,
      ),
    );
    const shorter = derived.dscText.replace(
      new RegExp(`^( [0-9a-f]{64}) \\d+ (${tarball.filename.replace(/[.+]/g, '\\$&')})$`, 'gm'),
      '$1 12 $2',
    );
    assert.throws(() => unpack(shorter), /\.debian\.tar\.xz: \d+ bytes, the \.dsc says 12/);
    const unsafe = withChecksum(derived.dscText, tarball.filename, tarball.sha256).replace(
      new RegExp(tarball.filename.replace(/[.+]/g, '\\$&'), 'g'),
      '../../escape.tar.xz',
    );
    assert.throws(() => unpack(unsafe), /'\.\.\/\.\.\/escape\.tar\.xz', which is not a plain file name/);
    assert.throws(
      () => unpack(derived.dscText.replace(/^Checksums-Sha256:\n( .*\n)+/m, '')),
      /no Checksums-Sha256/,
    );
  });

  it('refuses a .dsc whose bytes are not its reference, or not in the input', (t) => {
    if (!ready(t)) return;
    const input = helloInput(root);
    const other = `sha256:${hello.files[0]?.sha256}`;
    writeFileSync(join(root.dir, 'inputs/sources', `sha256:${'0'.repeat(64)}`), readFileSync(hello.dsc.path));
    (input.data?.files as Record<string, unknown>)[`sha256:${'0'.repeat(64)}`] = {};
    assert.throws(
      () => main(root.args({ dsc: `sha256:${'0'.repeat(64)}` }, { inputs: { sources: input } })),
      /does not have its reference's SHA256/,
    );
    assert.throws(
      () => main(root.args({ dsc: `sha256:${'1'.repeat(64)}` }, { inputs: { sources: input } })),
      /is not in the input 'sources'/,
    );
    // A tarball given as the .dsc is no .dsc.
    assert.throws(() => main(root.args({ dsc: other }, { inputs: { sources: input } })), /\.dsc/);
    assert.deepEqual(readdirSync(root.tree), []);
  });

  it('with a keyring, unpacks only a .dsc signed by one of its keys', (t) => {
    if (!ready(t)) return;
    const signed = gpg(['--local-user', 'signer@forge.invalid', '--clearsign'], derived.dscText);
    const binaryKey = join(root.dir, 'signer.gpg');
    writeFileSync(
      binaryKey,
      execFileSync('gpg', ['--homedir', gnupg, '--batch', '--export', 'signer@forge.invalid']),
    );
    const armouredKey = join(root.dir, 'signer.asc');
    writeFileSync(armouredKey, signerKey);
    for (const [keyring, path] of [
      [signerKey, '/a'],
      [binaryKey, '/b'],
      [armouredKey, '/c'],
    ] as const) {
      const { input, dsc } = derivedInput(root, signed);
      main(root.args({ dsc, path, keyring }, { inputs: { sources: input } }));
      assert.ok(
        readFileSync(join(root.tree, path, 'src/hello.c'), 'utf8').includes(PATCHED),
        keyring.slice(0, 40),
      );
    }
    const refused = (dscText: string, keyring: string, error: RegExp) => {
      const { input, dsc } = derivedInput(root, dscText);
      assert.throws(
        () => main(root.args({ dsc, path: '/refused', keyring }, { inputs: { sources: input } })),
        error,
      );
      assert.equal(existsSync(join(root.tree, 'refused')), false);
    };
    refused(signed, otherKey, /signature does not verify with the keyring/);
    refused(derived.dscText, signerKey, /signature does not verify/);
    // The signed text changed afterwards: one listed checksum points to another file.
    const tarball = derived.files.find((f) => f.filename.endsWith('.debian.tar.xz')) as Pinned;
    const tampered = withChecksum(signed, tarball.filename, sha256('another tarball'));
    refused(tampered, signerKey, /signature does not verify/);
    // A second paragraph after the signature is not signed and not read.
    refused(`${signed}\nSource: evil\n`, signerKey, /signature does not verify|text after its signature/);
    refused(signed, '/no/such/keyring.gpg', /is not a file in the build root/);
  });

  it('stays inside the tree and keeps what is there', (t) => {
    if (!ready(t)) return;
    const outside = join(work, `outside-${process.pid}`);
    symlinkSync(outside, join(root.tree, 'build'));
    main(root.args({ dsc: `sha256:${hello.dsc.sha256}` }, { inputs: { sources: helloInput(root) } }));
    assert.equal(existsSync(outside), false, 'a link in the tree to an absolute path is followed inside it');
    assert.ok(existsSync(join(root.tree, outside, 'hello-2.10/debian/changelog')));
    assert.throws(
      () =>
        main(
          root.args(
            { dsc: `sha256:${hello.dsc.sha256}` },
            { inputs: { sources: helloInput(root, 'again') } },
          ),
        ),
      /cannot unpack into \/build\/hello-2\.10: it exists in the tree/,
    );
  });
});

describe('org.osbuild.debian.source options', () => {
  const dsc = `sha256:${'a'.repeat(64)}`;
  it('refuse paths that leave the tree or are not absolute, and a .dsc not named by its checksum', () => {
    for (const path of [
      '/../etc',
      '/build/..',
      '/build/../../x',
      '/./x',
      'build/x',
      '/',
      '//x',
      '/a//b',
      '/a/',
    ]) {
      assert.equal(options.safeParse({ dsc, path }).success, false, path);
    }
    for (const keyring of ['keys.gpg', '/usr/../etc/keys.gpg', '']) {
      assert.equal(options.safeParse({ dsc, keyring }).success, false, keyring);
    }
    for (const bad of ['hello_2.10-3.dsc', 'sha256:abc', `md5:${'a'.repeat(32)}`]) {
      assert.equal(options.safeParse({ dsc: bad }).success, false, bad);
    }
    assert.equal(options.safeParse({ dsc, extra: 1 }).success, false, 'unknown options');
  });

  it('accept the paths and keyrings a manifest names', () => {
    assert.ok(options.safeParse({ dsc }).success);
    assert.ok(
      options.safeParse({ dsc, path: '/build/hello-2.10', keyring: '/usr/share/keyrings/debian-keyring.gpg' })
        .success,
    );
    assert.ok(
      options.safeParse({ dsc, path: '/src/.hidden..x', keyring: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n…' })
        .success,
    );
  });
});
