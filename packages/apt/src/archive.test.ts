/**
 * Search and depsolve against the host's Debian mirror (read from this machine's apt sources), for
 * bookworm (debian-12) and trixie (debian-13). One root per suite, updated once: every test here
 * shares it. The figures (update, index load, depsolve times) are printed as diagnostics.
 *
 * Minbase is checked against mmdebstrap's. By default against the counts measured with
 * `mmdebstrap --variant=minbase --simulate` (mmdebstrap 1.3.5; names of its `Inst` lines), with a
 * tolerance for point releases: bookworm 96, trixie 78. With FORGE_TEST_MMDEBSTRAP=1, mmdebstrap
 * runs here, in the background while the other tests run (15–25 s and much CPU per suite, which is
 * why it is not the default), and the package names are compared exactly.
 *
 * On trixie our minbase is mmdebstrap's. On bookworm plain mmdebstrap pulls `usrmerge` and with it
 * perl (96 packages); its merged-usr hook avoids that (88 packages, DEBIAN.md §3), but hooks do not
 * run under --simulate. So there our `required` base is compared with mmdebstrap's plain minbase,
 * and our minbase must be that set without the usrmerge/perl chain, plus usr-is-merged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compareDebianVersions } from '@debian-forge/debian-version';
import { depsolve, depsolveLayers, type ResolvedPackage } from './depsolve.ts';
import { AptError, AptErrorCode } from './errors.ts';
import { loadIndex } from './packages.ts';
import { type AptRoot, openRoot } from './root.ts';
import { info, infoMany, search } from './search.ts';
import { debianRepositories } from './sources.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-archive-'));
after(() => rmSync(work, { recursive: true, force: true }));

const RUN_MMDEBSTRAP = process.env.FORGE_TEST_MMDEBSTRAP === '1';
/** Package counts of `mmdebstrap --variant=minbase --simulate`, measured here (see above). */
const MMDEBSTRAP_MINBASE: Record<string, number> = { bookworm: 96, trixie: 78 };
/** How far a count may drift with point releases before the comparison fails. */
const TOLERANCE = 8;

function isAptError(code: AptErrorCode, text?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AptError, `expected an AptError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text) assert.match(e.message, text);
    assert.ok(!/\n\s+at /.test(e.message), 'no stack trace in the message');
    return true;
  };
}

/** One root per suite, shared by every test of this file. */
const roots = new Map<string, Promise<AptRoot>>();
function rootFor(suite: string): Promise<AptRoot> {
  let root = roots.get(suite);
  if (!root) {
    root = (async () => {
      const r = await openRoot({ stateDir: join(work, 'state'), repositories: debianRepositories(suite) });
      const u = await r.update();
      const t0 = performance.now();
      const index = await loadIndex(r);
      console.log(
        `# ${suite}: update ${u.seconds.toFixed(1)} s; index of ${index.records} records parsed in ${index.loadSeconds.toFixed(2)} s (${((performance.now() - t0) / 1000).toFixed(2)} s wall)`,
      );
      return r;
    })();
    roots.set(suite, root);
  }
  return root;
}

/** mmdebstrap's minbase for a suite, from the first URI of the host's Debian sources (names only). */
function mmdebstrapMinbase(suite: string): Promise<string[]> | undefined {
  if (!RUN_MMDEBSTRAP) return undefined;
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

describe("search and info over the host mirror's bookworm", () => {
  let root: AptRoot;

  before(async () => {
    root = await rootFor('bookworm');
  });

  it('loads the index of the whole archive (~64k packages) in a few seconds, once per update', async (t) => {
    const t0 = performance.now();
    const index = await loadIndex(root);
    const wall = (performance.now() - t0) / 1000;
    t.diagnostic(
      `index: ${index.records} records, ${index.names.length} names, parsed in ${index.loadSeconds.toFixed(2)} s when first loaded; this call ${wall.toFixed(2)} s`,
    );
    assert.ok(index.names.length > 60_000, `${index.names.length} names`);
    assert.ok(index.loadSeconds < 10);
    const t1 = performance.now();
    assert.equal(await loadIndex(root), index, 'cached');
    assert.ok(performance.now() - t1 < 50);
  });

  it('pages through the whole archive: every name once, sorted, newest version', async (t) => {
    const t0 = performance.now();
    const names: string[] = [];
    let total = -1;
    for (let offset = 0; ; offset += 2000) {
      const page = await search(root, { limit: 2000, offset });
      total = page.total;
      names.push(...page.packages.map((p) => p.name));
      if (page.packages.length < 2000) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    t.diagnostic(`paged ${names.length} packages in ${seconds.toFixed(2)} s`);
    assert.equal(names.length, total);
    assert.deepEqual(names, [...new Set(names)].sort());
    assert.ok(seconds < 5);
  });

  it('matches name globs and exact names, and filters by text', async () => {
    const ssh = await search(root, { names: 'openssh-*' });
    const sshNames = ssh.packages.map((p) => p.name);
    for (const n of ['openssh-client', 'openssh-server', 'openssh-sftp-server'])
      assert.ok(sshNames.includes(n), n);
    assert.ok(sshNames.every((n) => n.startsWith('openssh-')));
    const exact = await search(root, { names: ['bash', 'coreutils', 'forge-no-such-package'] });
    assert.deepEqual(
      exact.packages.map((p) => p.name),
      ['bash', 'coreutils'],
    );
    const text = await search(root, { names: 'openssh-*', text: 'SFTP server' });
    assert.ok(text.packages.some((p) => p.name === 'openssh-sftp-server'));
    assert.ok(text.total < ssh.total);
    const paged = await search(root, { names: 'lib*', limit: 10, offset: 20 });
    const all = await search(root, { names: 'lib*', limit: 30 });
    assert.deepEqual(paged.packages, all.packages.slice(20, 30));
    assert.equal(paged.total, all.total);
    await assert.rejects(
      search(root, { limit: -1 }),
      (e: unknown) => e instanceof AptError && e.code === AptErrorCode.Request,
    );
  });

  it("gives apt's candidate version for each name (Debian version ordering over all suites)", async () => {
    const names = ['openssh-server', 'libc6', 'apt', 'bash', 'systemd', 'tzdata', 'ca-certificates'];
    const r = await root.apt('apt-cache', ['policy', ...names]);
    const candidates = new Map<string, string>();
    let current = '';
    for (const line of r.stdout.split('\n')) {
      const pkg = /^(\S+):$/.exec(line);
      if (pkg?.[1]) current = pkg[1];
      const cand = /^\s+Candidate: (\S+)/.exec(line);
      if (cand?.[1]) candidates.set(current, cand[1]);
    }
    const found = await search(root, { names });
    for (const p of found.packages) assert.equal(p.version, candidates.get(p.name), p.name);
    assert.equal(found.total, names.length);
  });

  it('gives full information: summary, description, homepage, section, sizes, relations, SHA256', async () => {
    const i = await info(root, 'openssh-server');
    assert.ok(i);
    assert.match(i.summary, /secure shell/i);
    assert.ok(
      i.description.split('\n').length > 3 && i.description.length > i.summary.length,
      'long description',
    );
    assert.ok(!i.description.includes('\n .\n'), 'plain text, no " ." lines');
    assert.match(i.homepage, /^https?:\/\//);
    assert.equal(i.section, 'net');
    assert.equal(i.source, 'openssh');
    assert.ok(i.size > 100_000 && i.installedSize > i.size);
    assert.ok(i.depends.some((d) => d.startsWith('openssh-client (= ')));
    assert.ok(i.recommends.length > 0);
    assert.ok(i.provides.includes('ssh-server'));
    assert.match(i.sha256, /^[0-9a-f]{64}$/);
    assert.ok(i.url.endsWith(i.filename));
    assert.deepEqual(
      i.versions,
      [...i.versions].sort((a, b) => compareDebianVersions(b, a)),
    );
    assert.equal(i.versions[0], i.version);
    // The same SHA256 as apt's own view of that version.
    const show = await root.apt('apt-cache', ['show', `openssh-server=${i.version}`]);
    assert.ok(show.stdout.includes(`SHA256: ${i.sha256}`));

    const older = i.versions[1];
    if (older) assert.equal((await info(root, 'openssh-server', { version: older }))?.version, older);
    assert.equal(await info(root, 'forge-no-such-package'), undefined);
    const many = await infoMany(root, ['bash', 'forge-no-such-package', 'dash']);
    assert.deepEqual(
      many.map((p) => [p.name, p.essential]),
      [
        ['bash', true],
        ['dash', true],
      ],
    );
  });
});

/** Each suite's minbase and minbase + openssh-server, for the bookworm-only tests after them. */
const results = new Map<string, { minbase: ResolvedPackage[]; withSsh: ResolvedPackage[] }>();

for (const suite of ['bookworm', 'trixie'] as const) {
  describe(`depsolve on ${suite} from the host's Debian mirror`, () => {
    let root: AptRoot;
    const reference = mmdebstrapMinbase(suite);
    reference?.catch(() => undefined); // awaited (and reported) by its test

    before(async () => {
      root = await rootFor(suite);
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
      const expected = mm?.length ?? MMDEBSTRAP_MINBASE[suite] ?? 0;
      const near = (n: number, want: number, what: string) =>
        assert.ok(
          Math.abs(n - want) <= TOLERANCE,
          `${what}: ${n} packages, mmdebstrap ${want} ± ${TOLERANCE}`,
        );
      if (suite === 'trixie') {
        if (mm) assert.deepEqual(names, mm, 'trixie: the same packages as mmdebstrap --variant=minbase');
        near(names.length, expected, 'trixie minbase');
      } else {
        const required = (await depsolve(root, { base: 'required', packages: [] })).map((p) => p.name);
        if (mm) assert.deepEqual(required, mm, "bookworm: our 'required' is mmdebstrap's plain minbase");
        near(required.length, expected, "bookworm 'required'");
        const dropped = required.filter((n) => !names.includes(n));
        const added = names.filter((n) => !required.includes(n));
        assert.deepEqual(added, ['usr-is-merged']);
        assert.ok(dropped.includes('usrmerge') && dropped.includes('perl'), dropped.join(' '));
        assert.ok(dropped.length <= 12, `only the usrmerge/perl chain is dropped: ${dropped.join(' ')}`);
        t.diagnostic(
          `bookworm: required ${required.length}; minbase ${names.length} (without ${dropped.join(' ')})`,
        );
      }
      t.diagnostic(
        `${suite}: minbase ${names.length} packages; mmdebstrap --simulate ${expected}${mm ? ' (run now)' : ' (recorded)'}`,
      );
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
    root = await rootFor('bookworm');
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
    // One resolution, three forms: a relation, an exact version without its epoch, a version glob.
    const forms = await depsolve(root, {
      packages: [
        `openssh-sftp-server (>= ${ssh.version})`,
        `openssh-server=${ssh.version.replace(/^\d+:/, '')}`,
        'openssh-client=*',
      ],
    });
    const version = (name: string) => forms.find((p) => p.name === name)?.version;
    assert.equal(version('openssh-sftp-server'), ssh.version, 'relation');
    assert.equal(version('openssh-server'), ssh.version, 'epoch left out');
    assert.equal(version('openssh-client'), ssh.version, 'version glob');
    const older = ssh.versions.find((v) => v !== ssh.version);
    if (older) {
      const res = await depsolve(root, { packages: [`openssh-client (<< ${ssh.version})`] });
      assert.equal(res.find((p) => p.name === 'openssh-client')?.version, older);
    }
    // A raw apt pattern, with recommends: more than minbase + openssh-server without them.
    const recommended = await depsolve(root, {
      packages: ['?priority(required)', 'openssh-server'],
      installRecommends: true,
    });
    assert.ok(recommended.some((p) => p.name === 'ncurses-term'));
    assert.ok(!withSsh.some((p) => p.name === 'ncurses-term'));
    assert.ok(recommended.length > withSsh.length);
  });

  it('resolves layers cumulatively: a package added to the last layer changes only the last layer', async () => {
    const a = await depsolveLayers(root, [[], ['openssh-server']], { base: 'minbase' });
    const b = await depsolveLayers(root, [[], ['openssh-server', 'curl'], []], { base: 'minbase' });
    assert.equal(a.length, 2);
    assert.deepEqual(b[2], [], 'an empty last layer adds nothing');
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

  it('resolves a build environment: Build-Depends relations on top of minbase, read by apt', async () => {
    // hello's relations with what else their syntax allows: an arch restriction that excludes, a
    // profile restriction, an alternative whose first member does not exist, :native.
    const relations = [
      'build-essential, fakeroot',
      'debhelper-compat (= 13), help2man, texinfo, forge-no-such-package [arm64], libgpm-dev <!nocheck>, forge-no-such-package | m4:native',
    ];
    const [, env = []] = await depsolveLayers(root, [[], { packages: [], relations }], { base: 'minbase' });
    const names = new Set(env.map((p) => p.name));
    for (const n of ['build-essential', 'fakeroot', 'debhelper', 'help2man', 'texinfo', 'libgpm-dev', 'm4']) {
      assert.ok(names.has(n), `${n} resolved`);
    }
    for (const p of env) assert.ok(!minbase.some((q) => q.name === p.name), `${p.name} not in minbase`);
    const [, noCheck = []] = await depsolveLayers(
      root,
      [[], { packages: [], relations, profiles: ['nocheck'] }],
      {
        base: 'minbase',
      },
    );
    assert.ok(!noCheck.some((p) => p.name === 'libgpm-dev'), 'the nocheck profile leaves out <!nocheck>');
  });

  it('names the build dependency nothing satisfies, and refuses what is not a relation', async () => {
    await assert.rejects(
      depsolveLayers(
        root,
        [[], { packages: [], relations: ['debhelper-compat (= 13), forge-no-such-package (>= 2)'] }],
        {
          base: 'minbase',
        },
      ),
      isAptError(AptErrorCode.Unsatisfiable, /Depends: forge-no-such-package \(>= 2\)/),
    );
    await assert.rejects(
      depsolve(root, { packages: [], relations: ['-oDir::Etc=/tmp'] }),
      isAptError(AptErrorCode.Request, /not Debian relation syntax/),
    );
    await assert.rejects(
      depsolve(root, { packages: [], relations: ['hello'], profiles: ['no check'] }),
      isAptError(AptErrorCode.Request, /bad build profile/),
    );
  });
});
