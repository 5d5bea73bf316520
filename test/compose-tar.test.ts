/**
 * `forge compose` of tar images, end to end against the configured Debian mirror: the tree has what
 * the blueprint asked for (packages, hostname, users, enabled services) on debian-12 and debian-13;
 * the same manifest built in two empty stores gives byte-identical archives; one more blueprint
 * package rebuilds only from the last package layer on; `--host-buildroot` builds the same files
 * with the host's tools; bad requests fail with a clear cause.
 *
 * Each tar carries the marks of its build root's tools where bookworm's and trixie's differ, so a
 * debian-13 tar built on a Debian 12 host is trixie's tar's and mmdebstrap's work; the bytes stay the
 * same when the host's `tar` and `mmdebstrap` are broken, which a `--host-buildroot` build uses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debianRepositories } from '@debian-forge/apt';
import { buildRootPackage } from './build-root.fixture.ts';
import { forge, sandboxUnavailable, tempDir, withFakeTools } from './engine.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping compose tests: ${skip}`);

const blueprint = (extra = '') => `name = "tar-test"
version = "0.0.1"

[[packages]]
name = "less"

${extra}
[customizations]
hostname = "forge-tar"

[[customizations.user]]
name = "alice"
password = "$6$rounds=5000$abc$4Qyr9JjJZ3pLq0LxzCUZ3cEhGlFjbIu6H2qX7rGL1K7iJLpp3bL0nLOm7bbHnLQ0AJX1Xq6e6b8u5oTQfXpGv0"
groups = ["users"]

[customizations.services]
enabled = ["systemd-networkd"]
`;

/** Lists a tar archive's member names. */
function members(archive: string): Set<string> {
  const out = execFileSync('tar', ['-tf', archive], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return new Set(out.split('\n').map((l) => l.replace(/^\.\//, '')));
}

function extract(archive: string, member: string): string {
  return execFileSync('tar', ['-xOf', archive, `./${member}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The devmajor and devminor fields of the archive's first header (its root directory's). */
function deviceFields(archive: string): Buffer {
  const header = Buffer.alloc(512);
  const fd = openSync(archive, 'r');
  try {
    readSync(fd, header, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return header.subarray(329, 345);
}

/** Whether Debian version `a` is `b` or later (dpkg's ordering). */
function atLeast(a: string, b: string): boolean {
  try {
    execFileSync('dpkg', ['--compare-versions', a, 'ge', b]);
    return true;
  } catch {
    return false;
  }
}

/** The file a host command runs: the first `name` on PATH, its links resolved. */
function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      return realpathSync(join(dir, name));
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not on PATH`);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('forge compose tar', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let state: string;
  before(() => {
    dir = tempDir('forge-compose-');
    state = join(dir.path, 'state');
  });
  after(() => dir.cleanup());

  const compose = (bp: string, args: string[]) => {
    const file = join(dir.path, `${createHash('sha256').update(bp).digest('hex').slice(0, 8)}.toml`);
    writeFileSync(file, bp);
    return forge(['compose', file, '--type', 'tar', '--state-dir', state, ...args]);
  };

  for (const distro of ['debian-12', 'debian-13']) {
    it(`builds a ${distro} tree with the blueprint's packages, hostname, user and service`, () => {
      const out = join(dir.path, distro);
      const r = compose(blueprint(), [
        '--distro',
        distro,
        '--output',
        out,
        '--store',
        join(dir.path, `store-${distro}`),
      ]);
      assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr);
      const archive = join(out, 'root.tar');
      const names = members(archive);
      assert.ok(names.has('usr/bin/less'), 'less is installed');
      assert.equal(extract(archive, 'etc/hostname'), 'forge-tar\n');
      assert.match(extract(archive, 'etc/passwd'), /^alice:x:\d+:\d+:/m);
      assert.ok(names.has('etc/systemd/system/multi-user.target.wants/systemd-networkd.service'));
      const status = extract(archive, 'var/lib/dpkg/status');
      assert.match(status, /^Package: less\nStatus: install ok installed/m);
      assert.ok(!names.has('var/cache/apt/archives/less.deb'));
      const codename = distro === 'debian-12' ? 'bookworm' : 'trixie';
      // /etc/os-release is a link to ../usr/lib/os-release.
      assert.match(extract(archive, 'usr/lib/os-release'), new RegExp(`VERSION_CODENAME=${codename}`));

      // The marks of the build root's tools, where bookworm's and trixie's differ.
      const manifest = join(out, 'manifest.json');
      const store = join(dir.path, `store-${distro}`);
      // GNU tar 1.35 leaves devmajor and devminor empty for files that are not devices (its NEWS);
      // 1.34 writes zeros.
      const tar = buildRootPackage(manifest, store, 'tar');
      const empty = atLeast(tar.version, '1.35');
      assert.equal(
        deviceFields(archive).equals(Buffer.alloc(16)),
        empty,
        `device fields of the root's header by tar ${tar.version}: ${JSON.stringify(deviceFields(archive).toString('latin1'))}`,
      );
      // bookworm's mmdebstrap links lib32 and libx32 into /usr in its merged-/usr setup hook on amd64,
      // whatever the packages ship; trixie's links only what they ship (its extract hook). Only a
      // trixie tree keeps the links: bookworm's usr-is-merged removes them again when no package owns
      // them (its postinst).
      if (distro === 'debian-13') {
        const mmdebstrap = buildRootPackage(manifest, store, 'mmdebstrap');
        const files = mmdebstrap.extract(join(dir.path, 'mmdebstrap'));
        const hook = readFileSync(join(files, 'usr/share/mmdebstrap/hooks/merged-usr/setup00.sh'), 'utf8');
        const linksLib32 = /\blib32\b/.test(hook);
        assert.equal(names.has('lib32'), linksLib32, `/lib32 by mmdebstrap ${mmdebstrap.version}`);
        assert.equal(names.has('usr/libx32/'), linksLib32, `/usr/libx32 by mmdebstrap ${mmdebstrap.version}`);
      }
    });
  }

  it('gives byte-identical archives from two empty stores', () => {
    // The debian-12 compose above ran in an empty store; build its manifest once more in another.
    const first = join(dir.path, 'debian-12');
    const out = join(dir.path, 'repro');
    const r = forge([
      'build',
      join(first, 'manifest.json'),
      '--store',
      join(dir.path, 'repro-store'),
      '--export',
      'archive',
      '--output-directory',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr);
    assert.equal(sha256(join(out, 'archive', 'root.tar')), sha256(join(first, 'root.tar')));
  });

  it('rebuilds only from the last package layer on when a package is added', () => {
    const store = join(dir.path, 'store-debian-12');
    const more = blueprint('[[packages]]\nname = "tree"\n');
    const r = compose(more, ['--output', join(dir.path, 'more'), '--store', store]);
    assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr);
    const ran = [...r.stdout.matchAll(/^\[\d+\/\d+\] (\S+): [0-9a-f]{64}/gm)].map((m) => m[1]);
    assert.match(r.stdout, /starting from stored stage org\.osbuild\.apt/);
    assert.ok(!ran.includes('org.osbuild.debootstrap'), `debootstrap ran again: ${ran.join(', ')}`);
    assert.equal(ran.filter((t) => t === 'org.osbuild.apt').length, 1, `stages run: ${ran.join(', ')}`);
    assert.ok(members(join(dir.path, 'more', 'root.tar')).has('usr/bin/tree'));
  });

  it("--host-buildroot: no build pipeline, the same files made with the host's tools", () => {
    const out = join(dir.path, 'host');
    const r = compose(blueprint(), [
      '--host-buildroot',
      '--output',
      out,
      '--store',
      join(dir.path, 'store-debian-12'),
    ]);
    assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr);
    const manifest = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
        pipelines: { name: string; build?: string }[];
      };
    assert.deepEqual(
      manifest(out).pipelines.map((p) => [p.name, p.build]),
      [
        ['os', undefined],
        ['archive', undefined],
      ],
    );
    const built = manifest(join(dir.path, 'debian-12')).pipelines;
    assert.deepEqual(
      built.map((p) => [p.name, p.build]),
      [
        ['build', undefined],
        ['os', 'name:build'],
        ['archive', 'name:build'],
      ],
    );
    assert.deepEqual(members(join(out, 'root.tar')), members(join(dir.path, 'debian-12', 'root.tar')));
  });

  it('names the cause when a package does not exist or a version constraint is bad', () => {
    let r = compose(blueprint('[[packages]]\nname = "no-such-package-forge"\n'), [
      '--output',
      join(dir.path, 'bad1'),
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no-such-package-forge/);
    assert.match(r.stderr, /FORGE_ERR_APT_NOT_FOUND/);
    r = compose(blueprint('[[packages]]\nname = "less"\nversion = ">= banana"\n'), [
      '--output',
      join(dir.path, 'bad2'),
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /less/);
    assert.match(r.stderr, /version/i);
  });

  it('refuses a repository whose signature does not check, naming it', () => {
    const mirror = debianRepositories('bookworm')[0]?.uris[0];
    assert.ok(mirror, 'the host has a Debian repository');
    const gnupg = join(dir.path, 'gnupg');
    execFileSync('mkdir', ['-m', '700', '-p', gnupg]);
    const env = { ...process.env, GNUPGHOME: gnupg };
    execFileSync(
      'gpg',
      [
        '--batch',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        '--quick-gen-key',
        'wrong@forge.invalid',
        'ed25519',
        'sign',
        '1d',
      ],
      { env, stdio: 'ignore' },
    );
    const keyring = join(dir.path, 'wrong.gpg');
    execFileSync('gpg', ['--batch', '--export', '--output', keyring, 'wrong@forge.invalid'], { env });
    const extra = `[[customizations.repositories]]\nid = "wrongkey"\nuri = "${mirror}"\nsuites = ["bookworm-backports"]\ncomponents = ["main"]\nsigned_by = "${keyring}"\n`;
    const r = compose(blueprint() + extra, ['--output', join(dir.path, 'bad3')]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /FORGE_ERR_APT_SIGNATURE/);
    assert.match(r.stderr, /wrongkey/);
  });

  it("makes the same bytes with the host's tar and mmdebstrap broken, which --host-buildroot uses", () => {
    // Both host programs replaced, for these builds' processes only, by a script that fails loudly.
    const fake = join(dir.path, 'fake-tool');
    writeFileSync(fake, '#!/bin/sh\necho "forge test: the fake $0 ran" >&2\nexit 97\n', { mode: 0o755 });
    const under = withFakeTools(fake, [onPath('tar'), onPath('mmdebstrap')]);
    const store = join(dir.path, 'store-debian-12');
    // The store holds the os trees of the debian-12 composes above, with and without a build
    // pipeline: each build runs the archive's tar stage again, and only that.
    const build = (from: string, to: string) =>
      forge(
        [
          'build',
          join(dir.path, from, 'manifest.json'),
          '--store',
          store,
          '--export',
          'archive',
          '--output-directory',
          join(dir.path, to),
        ],
        { under },
      );
    const ran = (r: { stdout: string }) =>
      [...r.stdout.matchAll(/^\[\d+\/\d+\] (\S+): [0-9a-f]{64}/gm)].map((m) => m[1]);

    let r = build('debian-12', 'fake-tools');
    assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr);
    assert.deepEqual(ran(r), ['org.osbuild.tar']);
    const archive = join(dir.path, 'fake-tools', 'archive', 'root.tar');
    assert.equal(sha256(archive), sha256(join(dir.path, 'debian-12', 'root.tar')));

    // Without a build pipeline, the tar stage runs the host's tar: the fake.
    r = build('host', 'fake-tools-host');
    assert.equal(r.status, 1, r.stdout.slice(-3000) + r.stderr);
    assert.deepEqual(ran(r), ['org.osbuild.tar']);
    assert.match(r.stdout + r.stderr, /forge test: the fake \S*\/tar ran/);
  });
});
