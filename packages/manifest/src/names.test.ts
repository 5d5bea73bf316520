import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkName, joinInside, ManifestError, ManifestErrorCode, nameProblem } from './index.ts';
import { NAME_MAX_BYTES } from './names.ts';

/** The names every check must refuse, with a word of the reason it must give. */
const UNSAFE: [unknown, RegExp][] = [
  ['', /empty/],
  ['.', /directory/],
  ['..', /directory/],
  ['/', /'\/'/],
  ['/etc', /'\/'/],
  ['../../../../../../../../../../tmp/x/secretdir', /'\/'/],
  ['a/../../x', /'\/'/],
  ['a/b', /'\/'/],
  ['a\u0000b', /NUL/],
  ['a\nb', /U\+000A/],
  ['a\rb', /U\+000D/],
  ['\u001b[31m', /U\+001B/],
  ['a\u007fb', /U\+007F/],
  ['a\u0085b', /U\+0085/],
  ['a\ud800b', /lone surrogate/],
  ['x'.repeat(NAME_MAX_BYTES + 1), /256 bytes/],
  ['é'.repeat(128), /256 bytes/],
  [null, /null/],
  [7, /number/],
];

const SAFE = [
  'image',
  'os',
  'build',
  'ostree-commit',
  'disk.qcow2',
  '...',
  '.hidden',
  'a b',
  'x'.repeat(NAME_MAX_BYTES),
  'é'.repeat(127),
  '😀',
  'a..b',
  '-a',
];

describe('nameProblem', () => {
  for (const [name, reason] of UNSAFE) {
    it(`refuses ${JSON.stringify(name)?.slice(0, 40)}`, () => {
      const problem = nameProblem(name);
      assert.ok(problem, 'refused');
      assert.match(problem, reason);
    });
  }
  for (const name of SAFE) {
    it(`takes ${JSON.stringify(name).slice(0, 40)}`, () => {
      assert.equal(nameProblem(name), undefined);
    });
  }
  it('portable names: letters, digits, . _ -, starting with a letter or digit', () => {
    for (const name of ['disk.raw', 'root.tar', 'A1_b-c.d'])
      assert.equal(nameProblem(name, { portable: true }), undefined);
    for (const name of ['.x', '-x', '_x', 'a b', 'a"b', 'é', 'a;b'])
      assert.match(nameProblem(name, { portable: true }) ?? '', /only letters/);
  });
});

describe('checkName', () => {
  it('returns a safe name and throws FORGE_ERR_UNSAFE_NAME naming what and why', () => {
    assert.equal(checkName('image', 'export'), 'image');
    assert.throws(
      () => checkName('../x', 'export'),
      (err: unknown) =>
        err instanceof ManifestError &&
        err.code === ManifestErrorCode.UnsafeName &&
        err.message === `export "../x" cannot be used as a file name: it contains '/'`,
    );
  });
  it('shows a long name cut, with its length', () => {
    assert.throws(() => checkName('y'.repeat(100_000), 'export'), /"y{60}…" \(100000 characters\)/);
  });
});

describe('joinInside', () => {
  const top = mkdtempSync(join(tmpdir(), 'forge-names-'));
  after(() => rmSync(top, { recursive: true, force: true }));
  const dir = join(top, 'dir');
  const outside = join(top, 'outside');
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  writeFileSync(join(dir, 'sub', 'file'), 'in');
  symlinkSync(outside, join(dir, 'out'));
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'image'));
  symlinkSync('/etc/shadow', join(dir, 'shadow'));
  symlinkSync('../..', join(dir, 'sub', 'up'));
  symlinkSync('sub', join(dir, 'in'));
  symlinkSync('file', join(dir, 'sub', 'alias'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));

  const refused = (name: string, code: string, options = {}) =>
    assert.throws(
      () => joinInside(dir, name, options),
      (err: unknown) => err instanceof ManifestError && err.code === code,
      name,
    );

  it('joins a safe name, whether or not it exists', () => {
    assert.equal(joinInside(dir, 'sub'), join(dir, 'sub'));
    assert.equal(joinInside(dir, 'new'), join(dir, 'new'));
  });

  it('refuses every unsafe name before looking at the disk', () => {
    for (const [name] of UNSAFE) refused(name as string, ManifestErrorCode.UnsafeName);
    refused('sub/file', ManifestErrorCode.UnsafeName);
  });

  it('refuses a symbolic link that leads out, however it is written', () => {
    refused('out', ManifestErrorCode.PathOutside);
    refused('image', ManifestErrorCode.PathOutside);
    refused('shadow', ManifestErrorCode.PathOutside);
    refused('sub/up', ManifestErrorCode.PathOutside, { relative: true });
    refused('out/secret.txt', ManifestErrorCode.PathOutside, { relative: true });
    refused('dangling', ManifestErrorCode.PathOutside);
  });

  it('follows a link that stays inside, and returns where it leads', () => {
    assert.equal(joinInside(dir, 'in'), join(dir, 'sub'));
    assert.equal(joinInside(dir, 'in/alias', { relative: true }), join(dir, 'sub', 'file'));
  });

  it('takes relative paths as tree paths: a leading /, empty and . components name the directory', () => {
    assert.equal(joinInside(dir, '/sub/deeper', { relative: true }), join(dir, 'sub', 'deeper'));
    assert.equal(joinInside(dir, 'sub//./deeper/', { relative: true }), join(dir, 'sub', 'deeper'));
    assert.equal(joinInside(dir, '', { relative: true }), dir);
    assert.equal(joinInside(dir, '/', { relative: true }), dir);
    assert.equal(joinInside(dir, 'sub/new/newer', { relative: true }), join(dir, 'sub', 'new', 'newer'));
    // Below a file nothing can exist, so no link either: the caller's own use of it fails.
    assert.equal(joinInside(dir, 'sub/file/x', { relative: true }), join(dir, 'sub', 'file', 'x'));
    for (const path of ['..', '/../x', 'sub/../../x', 'a/\u0000/b', `a/${'x'.repeat(256)}`])
      refused(path, ManifestErrorCode.UnsafeName, { relative: true });
  });

  it('checks against the real path of a directory that is itself a link', () => {
    const link = join(top, 'dirlink');
    symlinkSync(dir, link);
    assert.equal(joinInside(link, 'sub'), join(link, 'sub'));
    assert.equal(joinInside(link, 'in/alias', { relative: true }), join(link, 'sub', 'file'));
    assert.throws(() => joinInside(link, 'out'), /leads out/);
  });
});
