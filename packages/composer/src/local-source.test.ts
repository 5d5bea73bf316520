import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { run, which } from '@debian-forge/host';
import { type Distro, getDistro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import { LOCAL_REPOSITORY, type LocalSource, localSource } from './local-source.ts';
import { sbuildPipelines } from './sbuild.ts';
import type { ResolvedPackage } from './types.ts';

const skip = which('dpkg-source') ? false : 'dpkg-source (dpkg-dev) is not installed';
const dir = mkdtempSync(join(tmpdir(), 'forge-local-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CHANGELOG = (name: string, version: string) =>
  `${name} (${version}) unstable; urgency=medium\n\n  * Test release.\n\n -- Forge Test <test@example.org>  Mon, 07 Dec 2026 12:00:00 +0000\n`;

/** A source tree of `name` at `version` in `parent`, with debian/ for `format`. */
function makeTree(parent: string, name: string, upstream: string, version: string, format: string): string {
  const tree = join(parent, `${name}-${upstream}`);
  mkdirSync(join(tree, 'debian/source'), { recursive: true });
  writeFileSync(join(tree, 'greeting.txt'), 'hello\n');
  writeFileSync(join(tree, 'debian/changelog'), CHANGELOG(name, version));
  writeFileSync(join(tree, 'debian/source/format'), `${format}\n`);
  writeFileSync(
    join(tree, 'debian/control'),
    `Source: ${name}\nMaintainer: Forge Test <test@example.org>\nBuild-Depends: debhelper-compat (= 13),\n base-files\nStandards-Version: 4.6.2\n\nPackage: ${name}\nArchitecture: all\nDescription: a test package\n A test package.\n`,
  );
  writeFileSync(join(tree, 'debian/rules'), '#!/usr/bin/make -f\n%:\n\tdh $@\n');
  chmodSync(join(tree, 'debian/rules'), 0o755);
  return tree;
}

/** Every path under `root` with its size and mode, to see that a tree was left as it was. */
function listing(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((p) => {
      const st = statSync(join(root, p));
      return `${p} ${st.size} ${st.mode} ${st.mtimeMs}`;
    });
}

function shas(made: LocalSource): string[] {
  return [made.source.dsc, ...made.source.files].map((f) => `${f.filename} ${f.sha256}`);
}

/** Writes the inline files of `made` into `to` under their names, as the stage gets them. */
function writeInline(made: LocalSource, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const f of [made.source.dsc, ...made.source.files]) {
    const item = made.inline[`sha256:${f.sha256}`];
    assert.ok(item, `${f.filename} is inline`);
    const bytes = Buffer.from(item.data, 'base64');
    assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256);
    writeFileSync(join(to, f.filename), bytes);
  }
  return join(to, made.source.dsc.filename);
}

const refused = async (p: Promise<unknown>, code: string, says: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ComposerError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, says);
    return true;
  });

test('a native tree: a source package without its VCS directory, the same bytes on a second plan', {
  skip,
}, async () => {
  const tree = makeTree(join(dir, 'native'), 'mytool', '1.0', '1.0', '3.0 (native)');
  mkdirSync(join(tree, '.git'));
  writeFileSync(join(tree, '.git/HEAD'), 'ref: refs/heads/main\n');
  const before = listing(tree);
  const made = await localSource(tree, { workDir: join(dir, 'work') });
  assert.deepEqual(listing(tree), before, "the caller's tree is left as it was");
  const s = made.source;
  assert.equal(s.name, 'mytool');
  assert.equal(s.version, '1.0');
  assert.equal(s.format, '3.0 (native)');
  assert.deepEqual(s.binaries, ['mytool']);
  assert.equal(s.architecture, 'all');
  assert.deepEqual(s.buildRelations, { 'Build-Depends': 'debhelper-compat (= 13), base-files' });
  assert.equal(s.repository, LOCAL_REPOSITORY);
  assert.deepEqual(
    s.files.map((f) => f.filename),
    ['mytool_1.0.tar.xz'],
  );
  assert.equal(Object.keys(made.inline).length, 2);
  const dsc = writeInline(made, join(dir, 'native-out'));
  const members = await run(['tar', '-tJf', join(dir, 'native-out/mytool_1.0.tar.xz')]);
  assert.ok(members.stdout.includes('mytool-1.0/debian/changelog'), members.stdout);
  assert.doesNotMatch(members.stdout, /\.git/, 'no VCS directory in the tarball');
  const again = await localSource(tree, { workDir: join(dir, 'work') });
  assert.deepEqual(shas(again), shas(made), 'two plans of one tree give the same files');
  // The written .dsc is itself a local source, read back to the same package.
  const reread = await localSource(dsc, { workDir: join(dir, 'work') });
  assert.deepEqual(shas(reread), shas(made));
});

test('a 3.0 (quilt) tree: its orig tarball from beside it, a patch the unpacked source has applied', {
  skip,
}, async () => {
  const parent = join(dir, 'quilt');
  const tree = makeTree(parent, 'greeter', '2.1', '1:2.1-3', '3.0 (quilt)');
  const orig = 'greeter_2.1.orig.tar.gz';
  // The upstream tarball: the tree without debian/, as upstream released it.
  await run(['tar', '--exclude=debian', '-czf', join(parent, orig), '-C', parent, 'greeter-2.1']);
  mkdirSync(join(tree, 'debian/patches'));
  writeFileSync(
    join(tree, 'debian/patches/greeting.patch'),
    [
      'Description: greet the world',
      '--- a/greeting.txt',
      '+++ b/greeting.txt',
      '@@ -1 +1 @@',
      '-hello',
      '+hello, patched world',
      '',
    ].join('\n'),
  );
  writeFileSync(join(tree, 'debian/patches/series'), 'greeting.patch\n');
  const before = listing(parent);
  const made = await localSource(tree, { workDir: join(dir, 'work') });
  assert.deepEqual(listing(parent), before, "the caller's tree and tarball are left as they were");
  assert.equal(made.source.version, '1:2.1-3');
  assert.equal(made.source.format, '3.0 (quilt)');
  assert.equal(made.source.dsc.filename, 'greeter_2.1-3.dsc');
  assert.deepEqual(made.source.files.map((f) => f.filename).sort(), ['greeter_2.1-3.debian.tar.xz', orig]);
  const origFile = made.source.files.find((f) => f.filename === orig);
  assert.equal(
    origFile?.sha256,
    createHash('sha256')
      .update(readFileSync(join(parent, orig)))
      .digest('hex'),
  );
  const dsc = writeInline(made, join(dir, 'quilt-out'));
  await run(['dpkg-source', '--no-check', '-x', dsc, join(dir, 'quilt-out/unpacked')], {
    env: { LC_ALL: 'C' },
  });
  assert.equal(readFileSync(join(dir, 'quilt-out/unpacked/greeting.txt'), 'utf8'), 'hello, patched world\n');
  const again = await localSource(tree, { workDir: join(dir, 'work') });
  assert.deepEqual(shas(again), shas(made), 'two plans of one tree give the same files');
});

test('a 3.0 (quilt) tree without its orig tarball is refused, naming the tarball', { skip }, async () => {
  const tree = makeTree(join(dir, 'no-orig'), 'lonely', '1.0', '1.0-1', '3.0 (quilt)');
  await refused(
    localSource(tree, { workDir: join(dir, 'work') }),
    ComposerErrorCode.LocalSource,
    /lonely_1\.0\.orig\.tar/,
  );
});

test('a .dsc with a tampered file, a file of another size, a missing file: each named', {
  skip,
}, async () => {
  const tree = makeTree(join(dir, 'dsc'), 'checked', '1.0', '1.0', '3.0 (native)');
  const made = await localSource(tree, { workDir: join(dir, 'work') });
  const out = join(dir, 'dsc-out');
  const dsc = writeInline(made, out);
  const tarball = join(out, 'checked_1.0.tar.xz');
  const good = readFileSync(tarball);
  const tampered = Buffer.from(good);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
  writeFileSync(tarball, tampered);
  await refused(
    localSource(dsc, { workDir: join(dir, 'work') }),
    ComposerErrorCode.LocalSourceFile,
    /checked_1\.0\.tar\.xz has SHA256/,
  );
  writeFileSync(tarball, Buffer.concat([good, Buffer.from('x')]));
  await refused(
    localSource(dsc, { workDir: join(dir, 'work') }),
    ComposerErrorCode.LocalSourceFile,
    /checked_1\.0\.tar\.xz has \d+ bytes/,
  );
  rmSync(tarball);
  await refused(
    localSource(dsc, { workDir: join(dir, 'work') }),
    ComposerErrorCode.LocalSourceFile,
    /checked_1\.0\.tar\.xz, which checked_1\.0\.dsc lists, is not beside it/,
  );
  writeFileSync(tarball, good);
  assert.deepEqual(shas(await localSource(dsc, { workDir: join(dir, 'work') })), shas(made));
  await refused(
    localSource(dsc, { workDir: join(dir, 'work'), maxBytes: 100 }),
    ComposerErrorCode.LocalSourceSize,
    /more than the 100 a manifest may carry/,
  );
  writeFileSync(join(out, 'bad.dsc'), 'Source: Bad Name\nVersion: 1\n');
  await refused(
    localSource(join(out, 'bad.dsc'), { workDir: join(dir, 'work') }),
    ComposerErrorCode.LocalSource,
    /bad\.dsc: .*Source/,
  );
});

test('a path that is no source, a tree whose changelog is malformed, a tree too large: refused', {
  skip,
}, async () => {
  const work = { workDir: join(dir, 'work') };
  const plain = join(dir, 'plain');
  mkdirSync(plain);
  writeFileSync(join(plain, 'README'), 'not a package\n');
  await refused(
    localSource(plain, work),
    ComposerErrorCode.LocalSource,
    /neither a directory with debian\/ nor a \.dsc/,
  );
  await refused(localSource(join(plain, 'README'), work), ComposerErrorCode.LocalSource, /neither/);
  await refused(localSource(join(dir, 'absent'), work), ComposerErrorCode.LocalSource, /does not exist/);
  const big = makeTree(join(dir, 'big'), 'big', '1.0', '1.0', '3.0 (native)');
  writeFileSync(join(big, 'data.bin'), Buffer.alloc(4096));
  await refused(
    localSource(big, { ...work, maxBytes: 256 }),
    ComposerErrorCode.LocalSourceSize,
    /the source tree .*big-1\.0 has \d+ bytes, more than the 2048/,
  );
  const tree = makeTree(join(dir, 'bad-changelog'), 'broken', '1.0', '1.0', '3.0 (native)');
  writeFileSync(join(tree, 'debian/changelog'), 'broken (1.0) unstable; urgency=medium\n\n  * no trailer\n');
  await refused(
    localSource(tree, work),
    ComposerErrorCode.LocalSource,
    /debian\/changelog is not a valid Debian changelog/,
  );
  writeFileSync(join(tree, 'debian/changelog'), 'this is not a changelog\n');
  await refused(localSource(tree, work), ComposerErrorCode.LocalSource, /badly formatted heading line/);
});

test('sbuildPipelines: a local source is carried as org.osbuild.inline items, not fetched', {
  skip,
}, async () => {
  const tree = makeTree(join(dir, 'pipelines'), 'carried', '1.0', '1.0', '3.0 (native)');
  const local = await localSource(tree, { workDir: join(dir, 'work') });
  const deb: ResolvedPackage = {
    name: 'base-files',
    version: '12.4',
    arch: 'amd64',
    url: 'http://deb.example/pool/base-files.deb',
    filename: 'base-files.deb',
    sha256: 'a'.repeat(64),
    size: 1,
    repository: 'debian',
  };
  const made = await sbuildPipelines(
    {
      distro: getDistro('debian-12') as Distro,
      source: local.source,
      repositories: [],
      sourceEpoch: 0,
      inline: local.inline,
    },
    // The environment's packages are not what this test is about: a resolver that gives one.
    { resolveLayers: async () => [[deb], [], []] },
  );
  assert.deepEqual(made.inline, local.inline);
  assert.deepEqual(Object.keys(made.items), [`sha256:${deb.sha256}`], 'only the environment is fetched');
  const unpack = made.pipelines.find((p) => p.name === 'source')?.stages[0];
  assert.ok(unpack);
  assert.deepEqual(
    (unpack.inputs as { sources: { references: string[] } }).sources.references.sort(),
    Object.keys(local.inline).sort(),
  );
});
