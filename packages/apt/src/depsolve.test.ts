/**
 * Depsolving against the host's Debian mirror, for bookworm (debian-12) and trixie (debian-13).
 *
 * The minbase reference is mmdebstrap's own resolution: `mmdebstrap --variant=minbase --simulate`
 * runs in the background while the other tests run (about 15–25 s each) and its `Inst` lines are
 * compared by name. On trixie our minbase equals it. On bookworm plain mmdebstrap pulls `usrmerge`
 * and perl (96 packages); its merged-usr hook avoids that (88 packages, measured in DEBIAN.md §3),
 * but hooks do not run under --simulate, so there we compare our `required` base with mmdebstrap's
 * plain minbase and check that minbase is exactly that set without the usrmerge/perl chain, plus
 * usr-is-merged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  aptExplanation,
  depsolve,
  depsolveLayers,
  parsePackageRequest,
  type ResolvedPackage,
} from './depsolve.ts';
import { AptError, AptErrorCode } from './errors.ts';
import { loadIndex } from './packages.ts';
import { type AptRoot, openRoot } from './root.ts';
import { info } from './search.ts';
import { debianRepositories } from './sources.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-depsolve-'));
after(() => rmSync(work, { recursive: true, force: true }));

function isAptError(code: AptErrorCode, text?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AptError, `expected an AptError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text) assert.match(e.message, text);
    assert.ok(!/\n\s+at /.test(e.message), 'no stack trace in the message');
    return true;
  };
}

/** mmdebstrap's minbase for a suite, from the first URI of the host's Debian sources (names only). */
function mmdebstrapMinbase(suite: string): Promise<string[]> {
  const mirror = debianRepositories(suite)[0]?.uris[0];
  return new Promise((resolve, reject) => {
    const child = spawn(
      'mmdebstrap',
      ['--verbose', '--variant=minbase', '--simulate', suite, '/dev/null', `deb ${mirror} ${suite} main`],
      { env: { ...process.env, LC_ALL: 'C', TMPDIR: work }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`mmdebstrap exited with ${code}:\n${out.slice(-2000)}`));
      const names = new Set<string>();
      for (const m of out.matchAll(/^Inst (\S+) /gm)) if (m[1]) names.add(m[1]);
      resolve([...names].sort());
    });
  });
}

describe('parsePackageRequest', () => {
  it('reads the forms blueprints use', () => {
    assert.deepEqual(parsePackageRequest('vim'), { kind: 'package', name: 'vim' });
    assert.deepEqual(parsePackageRequest('libc6:amd64'), { kind: 'package', name: 'libc6', arch: 'amd64' });
    assert.deepEqual(parsePackageRequest('curl=7.88.1-10+deb12u5'), {
      kind: 'package',
      name: 'curl',
      relation: '=',
      version: '7.88.1-10+deb12u5',
    });
    assert.deepEqual(parsePackageRequest('openssh-server (>= 1:9.0)'), {
      kind: 'package',
      name: 'openssh-server',
      relation: '>=',
      version: '1:9.0',
    });
    assert.deepEqual(parsePackageRequest('g++ << 13'), {
      kind: 'package',
      name: 'g++',
      relation: '<<',
      version: '13',
    });
    assert.deepEqual(parsePackageRequest('bash=5.2*'), {
      kind: 'package',
      name: 'bash',
      relation: '=',
      version: '5.2*',
    });
    assert.deepEqual(parsePackageRequest('linux-image-amd64/bookworm-backports'), {
      kind: 'package',
      name: 'linux-image-amd64',
      release: 'bookworm-backports',
    });
    assert.deepEqual(parsePackageRequest('?priority(required)'), {
      kind: 'pattern',
      pattern: '?priority(required)',
    });
  });

  it('rejects malformed requests with FORGE_ERR_APT_REQUEST', () => {
    for (const bad of [
      'Foo',
      'two words',
      'vim (>= )',
      'vim (> 1.0)',
      'vim = not a version',
      'vim (>= 1.0',
    ]) {
      assert.throws(() => parsePackageRequest(bad), isAptError(AptErrorCode.Request), bad);
    }
  });

  it("keeps apt's explanation and drops progress lines and the generic preamble", () => {
    const stdout = [
      'Reading package lists...',
      'Building dependency tree...',
      'Some packages could not be installed. This may mean that you have',
      'requested an impossible situation or if you are using the unstable',
      'distribution that some required packages have not yet been created',
      'or been moved out of Incoming.',
      'The following information may help to resolve the situation:',
      '',
      'The following packages have unmet dependencies:',
      ' a : Conflicts: b but 1 is to be installed',
      '',
    ].join('\n');
    assert.equal(
      aptExplanation(stdout, 'E: Unable to correct problems, you have held broken packages.\n'),
      'The following packages have unmet dependencies:\n a : Conflicts: b but 1 is to be installed\n\nE: Unable to correct problems, you have held broken packages.',
    );
  });
});

/** Each suite's minbase and minbase + openssh-server, for the bookworm-only tests after them. */
const results = new Map<string, { minbase: ResolvedPackage[]; withSsh: ResolvedPackage[] }>();

for (const suite of ['bookworm', 'trixie'] as const) {
  describe(`depsolve on ${suite} from the host's Debian mirror`, () => {
    let root: AptRoot;
    const reference = mmdebstrapMinbase(suite);
    reference.catch(() => undefined); // awaited (and reported) by its test

    before(async () => {
      root = await openRoot({ stateDir: join(work, 'state'), repositories: debianRepositories(suite) });
      const u = await root.update();
      const t0 = performance.now();
      const index = await loadIndex(root);
      console.log(
        `# ${suite}: update ${u.seconds.toFixed(1)} s, index ${index.records} records parsed in ${index.loadSeconds.toFixed(2)} s (${((performance.now() - t0) / 1000).toFixed(2)} s wall)`,
      );
    });

    let minbase: ResolvedPackage[] = [];
    let withSsh: ResolvedPackage[] = [];
    after(() => results.set(suite, { minbase, withSsh }));

    it('resolves minbase + openssh-server to exact files: URL, SHA256 from the index, sizes', async (t) => {
      const t0 = performance.now();
      withSsh = await depsolve(root, { base: 'minbase', packages: ['openssh-server'] });
      const seconds = (performance.now() - t0) / 1000;
      minbase = await depsolve(root, { base: 'minbase', packages: [] });
      const total = withSsh.reduce((s, p) => s + p.size, 0);
      t.diagnostic(
        `${suite}: minbase ${minbase.length} packages; + openssh-server ${withSsh.length} packages, ${(total / 1e6).toFixed(1)} MB, resolved in ${seconds.toFixed(2)} s`,
      );
      const names = withSsh.map((p) => p.name);
      for (const n of [
        'openssh-server',
        'openssh-client',
        'openssh-sftp-server',
        'apt',
        'dpkg',
        'base-files',
        'libc6',
      ]) {
        assert.ok(names.includes(n), n);
      }
      assert.deepEqual(names, [...names].sort(), 'sorted by name');
      assert.ok(total > 20e6 && total < 200e6, `${total} bytes`);
      const uris = root.repositories.flatMap((r) => r.uris.map((u) => u.replace(/\/*$/, '/')));
      const index = await loadIndex(root, { update: false });
      for (const p of withSsh) {
        assert.ok(
          uris.some((u) => p.url.startsWith(u)),
          `${p.url} comes from a configured repository`,
        );
        assert.match(p.sha256, /^[0-9a-f]{64}$/);
        assert.ok(p.size > 500 && p.size < 50e6, `${p.name} ${p.size}`);
        assert.ok(p.filename.endsWith('.deb') && p.filename.startsWith(`${p.name}_`), p.filename);
        assert.ok(p.arch === 'amd64' || p.arch === 'all');
        const rec = index.byName
          .get(p.name)
          ?.find((r) => r.version === p.version && r.architecture === p.arch);
        assert.equal(p.sha256, rec?.sha256, `${p.name}: SHA256 of the Packages index`);
        assert.equal(p.size, rec?.size);
      }
      const ssh = withSsh.find((p) => p.name === 'openssh-server');
      assert.equal(
        ssh?.version,
        (await info(root, 'openssh-server'))?.version,
        "apt's candidate: the newest version",
      );
      // minbase is a subset of minbase + openssh-server, at the same versions.
      const v = new Map(withSsh.map((p) => [p.name, p.version]));
      for (const p of minbase) assert.equal(v.get(p.name), p.version, p.name);
    });

    it('downloads to the SHA256 it pinned (the smallest file of the set)', async () => {
      const smallest = [...withSsh].sort((a, b) => a.size - b.size)[0];
      assert.ok(smallest);
      const res = await fetch(smallest.url);
      assert.equal(res.status, 200);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(bytes.length, smallest.size);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), smallest.sha256);
    });

    it("gives minbase as mmdebstrap's minbase does (merged /usr without perl)", async (t) => {
      const names = minbase.map((p) => p.name);
      assert.ok(names.includes('usr-is-merged') || suite !== 'bookworm', 'usr-is-merged on bookworm');
      for (const n of ['usrmerge', 'perl', 'perl-modules-5.36', 'perl-modules-5.40'])
        assert.ok(!names.includes(n), n);
      const mm = await reference;
      if (suite === 'trixie') {
        assert.deepEqual(names, mm, 'trixie: the same packages as mmdebstrap --variant=minbase');
      } else {
        const required = (await depsolve(root, { base: 'required', packages: [] })).map((p) => p.name);
        assert.deepEqual(required, mm, "bookworm: our 'required' is mmdebstrap's plain minbase");
        const dropped = required.filter((n) => !names.includes(n));
        const added = names.filter((n) => !required.includes(n));
        assert.deepEqual(added, ['usr-is-merged']);
        assert.ok(dropped.includes('usrmerge') && dropped.includes('perl'), dropped.join(' '));
        assert.ok(dropped.length <= 12, `only the usrmerge/perl chain is dropped: ${dropped.join(' ')}`);
        t.diagnostic(
          `bookworm: mmdebstrap minbase ${mm.length}; ours ${names.length} (without ${dropped.join(' ')})`,
        );
      }
      t.diagnostic(`${suite}: minbase ${names.length} packages, mmdebstrap --simulate ${mm.length}`);
    });

    it("fails on an unknown package with apt's words (FORGE_ERR_APT_NOT_FOUND)", async () => {
      await assert.rejects(
        depsolve(root, { base: 'minbase', packages: ['openssh-server', 'forge-no-such-package'] }),
        isAptError(AptErrorCode.NotFound, /^E: Unable to locate package forge-no-such-package$/),
      );
    });
  });
}

// Constraints, conflicts and layers, on bookworm only to keep the suite short. The root is the one
// above (same state directory and repositories, lists still fresh), so nothing is downloaded again.
describe('depsolve details on bookworm', () => {
  let root: AptRoot;
  let minbase: ResolvedPackage[] = [];
  let withSsh: ResolvedPackage[] = [];

  before(async () => {
    root = await openRoot({ stateDir: join(work, 'state'), repositories: debianRepositories('bookworm') });
    const known = results.get('bookworm');
    assert.ok(known, 'the bookworm tests ran first');
    ({ minbase, withSsh } = known);
  });

  it("fails on conflicts and impossible constraints with apt's explanation (FORGE_ERR_APT_UNSATISFIABLE)", async () => {
    await assert.rejects(
      depsolve(root, { packages: ['systemd-sysv', 'sysvinit-core'] }),
      isAptError(
        AptErrorCode.Unsatisfiable,
        /^The following packages have unmet dependencies:\n[\s\S]* systemd-sysv : Conflicts: sysvinit-core[\s\S]*E: Unable to correct problems/,
      ),
    );
    await assert.rejects(
      depsolve(root, { packages: ['openssh-server=0.0-0'] }),
      isAptError(AptErrorCode.Unsatisfiable, /E: Version '0\.0-0' for 'openssh-server' was not found/),
    );
    await assert.rejects(
      depsolve(root, { packages: ['openssh-server (>= 1:99)'] }),
      isAptError(AptErrorCode.Unsatisfiable, /No version of 'openssh-server' satisfies \(>= 1:99\)/),
    );
    await assert.rejects(
      depsolve(root, { packages: ['openssh-server'], excludes: ['openssh-sftp-server'] }),
      isAptError(AptErrorCode.Unsatisfiable, /openssh-server : Depends: openssh-sftp-server/),
    );
  });

  it('honours version constraints, patterns and recommends', async () => {
    const ssh = await info(root, 'openssh-server');
    assert.ok(ssh);
    const newest = await depsolve(root, { packages: [`openssh-sftp-server (>= ${ssh.version})`] });
    assert.equal(newest.find((p) => p.name === 'openssh-sftp-server')?.version, ssh.version);
    const older = ssh.versions.find((v) => v !== ssh.version);
    if (older) {
      const res = await depsolve(root, { packages: [`openssh-client (<< ${ssh.version})`] });
      assert.equal(res.find((p) => p.name === 'openssh-client')?.version, older);
    }
    const required = await depsolve(root, { packages: ['?priority(required)'] });
    assert.ok(required.length > 20);
    const plain = await depsolve(root, { packages: ['openssh-server'] });
    const recommended = await depsolve(root, { packages: ['openssh-server'], installRecommends: true });
    assert.ok(recommended.length > plain.length);
    assert.ok(recommended.some((p) => p.name === 'ncurses-term'));
    assert.ok(!plain.some((p) => p.name === 'ncurses-term'));
  });

  it('resolves layers cumulatively: a package added to the last layer changes only the last layer', async () => {
    const a = await depsolveLayers(root, [[], ['openssh-server']], { base: 'minbase' });
    const b = await depsolveLayers(root, [[], ['openssh-server', 'curl']], { base: 'minbase' });
    assert.equal(a.length, 2);
    assert.deepEqual(a[0], minbase, 'layer 1 is the base set');
    assert.deepEqual(b[0], a[0], 'layer 1 unchanged');
    const key = (p: ResolvedPackage) => `${p.name}=${p.version}`;
    assert.deepEqual(
      [...(a[0] ?? []), ...(a[1] ?? [])].map(key).sort(),
      withSsh.map(key).sort(),
      'the layers add up to the whole resolution',
    );
    const aLast = new Set((a[1] ?? []).map(key));
    assert.ok((b[1] ?? []).some((p) => p.name === 'curl'));
    assert.ok(
      [...aLast].every((k) => (b[1] ?? []).map(key).includes(k)),
      'the last layer only grew',
    );
    for (const p of b[1] ?? [])
      assert.ok(!(a[0] ?? []).some((q) => q.name === p.name), `${p.name} not in layer 1`);
  });
});
