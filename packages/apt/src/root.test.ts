import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { depsolve } from './depsolve.ts';
import { AptError, AptErrorCode } from './errors.ts';
import { buildLocalRepository } from './local-repo.ts';
import { openRoot } from './root.ts';
import { search } from './search.ts';
import { DEBIAN_ARCHIVE_KEYRING, debianRepositories, type Repository } from './sources.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-root-'));
after(() => rmSync(work, { recursive: true, force: true }));

function isAptError(code: AptErrorCode, text?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AptError, `expected an AptError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (text) assert.match(e.message, text);
    return true;
  };
}

function mtimes(paths: string[]): number[] {
  return paths.map((p) => (existsSync(p) ? statSync(p).mtimeMs : -1));
}

describe('apt root with a local flat repository (offline)', () => {
  const stateDir = join(work, 'state-local');
  let repo: Repository;

  before(async () => {
    repo = await buildLocalRepository(join(work, 'repo'), [
      {
        name: 'forge-a',
        version: '1.0-1',
        depends: 'forge-b (>= 2)',
        description: ['Long text.', '', 'More.'],
      },
      { name: 'forge-b', version: '2.0-1' },
      { name: 'forge-b', version: '1.5-1' },
      { name: 'forge-c', version: '1:0.1', conflicts: 'forge-a' },
    ]);
  });

  it('updates from the trusted repository and depsolves with no network, SHA256 and size from the index', async () => {
    const root = await openRoot({ stateDir, repositories: [repo] });
    const u = await root.update();
    assert.equal(u.updated, true);
    const res = await depsolve(root, { packages: ['forge-a'] });
    assert.deepEqual(
      res.map((p) => `${p.name}=${p.version}`),
      ['forge-a=1.0-1', 'forge-b=2.0-1'],
    );
    for (const p of res) {
      assert.ok(p.url.startsWith(`${repo.uris[0]}/`), p.url);
      const file = decodeURIComponent(p.url.slice('file:'.length));
      const bytes = readFileSync(file);
      assert.equal(p.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(p.size, bytes.length);
      assert.equal(p.filename, `${p.name}_${p.version}_all.deb`);
      assert.equal(p.repository, 'local');
    }
    const older = await depsolve(root, { packages: ['forge-b (<< 2)'] });
    assert.deepEqual(
      older.map((p) => p.version),
      ['1.5-1'],
    );
    await assert.rejects(
      depsolve(root, { packages: ['forge-a', 'forge-c'] }),
      isAptError(AptErrorCode.Unsatisfiable, /unmet dependencies[\s\S]*Conflicts: forge-a/),
    );
    const found = await search(root, { names: 'forge-*' });
    assert.deepEqual(
      found.packages.map((p) => `${p.name}=${p.version}`),
      ['forge-a=1.0-1', 'forge-b=2.0-1', 'forge-c=1:0.1'],
    );
  });

  it('reuses fresh lists, refreshes when forced or stale', async () => {
    const root = await openRoot({ stateDir, repositories: [repo] });
    const first = root.lastUpdate();
    assert.ok(first);
    const again = await root.update();
    assert.equal(again.updated, false);
    assert.deepEqual(again.at, first.at);
    const forced = await root.update({ force: true });
    assert.equal(forced.updated, true);
    assert.ok(forced.at > first.at);
    const stale = await openRoot({ stateDir, repositories: [repo], maxAgeSeconds: 0 });
    assert.equal(stale.dir, root.dir);
    assert.equal((await stale.update()).updated, true);
  });

  it('keys roots by repositories and architecture, and never touches the host apt state', async () => {
    const hostState = [
      '/var/lib/apt/lists',
      '/var/lib/dpkg/status',
      '/var/cache/apt',
      '/var/lib/apt/lists/lock',
    ];
    const before = mtimes(hostState);
    const a = await openRoot({ stateDir, repositories: [repo] });
    const b = await openRoot({ stateDir, repositories: [{ ...repo, id: 'other' }] });
    const c = await openRoot({ stateDir, repositories: [repo], arch: 'arm64' });
    assert.equal(new Set([a.dir, b.dir, c.dir]).size, 3);
    assert.ok(a.dir.startsWith(join(stateDir, 'apt', 'amd64-')));
    assert.ok(c.dir.startsWith(join(stateDir, 'apt', 'arm64-')));
    await b.update({ force: true });
    assert.deepEqual(mtimes(hostState), before);
    // The root's own layout, as DEBIAN.md §9 shows it.
    for (const p of [
      'etc/apt/trusted.gpg.d',
      'var/lib/apt/lists/partial',
      'var/cache/apt/archives/partial',
    ]) {
      assert.ok(statSync(join(b.dir, p)).isDirectory(), p);
    }
    assert.equal(readFileSync(join(b.dir, 'var/lib/dpkg/status'), 'utf8'), '');
    assert.deepEqual(readdirSync(join(b.dir, 'etc/apt/trusted.gpg.d')), []);
    const opts = b.aptOptions().join(' ');
    assert.match(opts, /Dir=\S+ .*Debug::NoLocking=1/);
  });

  it('runs apt once when two updates race, and waits for a lock another process holds', async () => {
    const one = await openRoot({ stateDir, repositories: [repo] });
    const two = await openRoot({ stateDir, repositories: [repo] });
    const both = await Promise.all([one.update({ force: true }), two.update({ force: true })]);
    assert.deepEqual(both.map((u) => u.updated).sort(), [false, true]);
    assert.ok(both[0]?.at.getTime() === both[1]?.at.getTime());

    // Another process (flock(1) itself) holds the lock for a second: our update waits for it.
    const holder = spawn('flock', ['--exclusive', one.lockPath, 'sleep', '1']);
    const holderExited = new Promise((r) => holder.once('exit', r));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    await one.update({ force: true });
    assert.ok(performance.now() - t0 > 600, 'update waited for the lock');
    await holderExited;

    const impatient = await openRoot({ stateDir, repositories: [repo], lockTimeoutSeconds: 1 });
    const holder2 = spawn('flock', ['--exclusive', one.lockPath, 'sleep', '1.5']);
    const holder2Exited = new Promise((r) => holder2.once('exit', r));
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(impatient.update({ force: true }), isAptError(AptErrorCode.Lock));
    await holder2Exited;
    // The lists are whole after all this.
    const res = await depsolve(one, { packages: ['forge-a'] });
    assert.equal(res.length, 2);
  });

  it('refuses an unsigned repository that is not marked trusted (FORGE_ERR_APT_SIGNATURE)', async () => {
    const unsigned = await buildLocalRepository(
      join(work, 'unsigned'),
      [{ name: 'forge-u', version: '1' }],
      'unsigned',
      {
        release: true,
      },
    );
    const root = await openRoot({ stateDir, repositories: [{ ...unsigned, trusted: false }] });
    await assert.rejects(root.update(), (e: unknown) => {
      isAptError(AptErrorCode.Signature, /'unsigned'[\s\S]*is not signed/)(e);
      assert.equal((e as AptError).repository, 'unsigned');
      return true;
    });
    assert.equal(root.lastUpdate(), undefined);
    const trusted = await openRoot({ stateDir, repositories: [unsigned] });
    assert.equal((await trusted.update()).updated, true);
  });

  it('fails with FORGE_ERR_APT_UPDATE naming the repository when it does not exist', async () => {
    const missing = { ...repo, id: 'missing', uris: [`file:${join(work, 'no-such-repo')}`] };
    const root = await openRoot({ stateDir, repositories: [missing] });
    await assert.rejects(root.update(), (e: unknown) => {
      isAptError(AptErrorCode.Update, /'missing'[\s\S]*(File not found|does not have a Release file)/)(e);
      assert.equal((e as AptError).repository, 'missing');
      return true;
    });
  });

  it('keeps the time of the last good update after a failed one, with a new generation', async () => {
    const dir = join(work, 'vanishing');
    const vanishing = await buildLocalRepository(dir, [{ name: 'forge-v', version: '1' }], 'vanishing');
    const root = await openRoot({ stateDir, repositories: [vanishing] });
    await root.update();
    const good = root.lastUpdate();
    rmSync(dir, { recursive: true, force: true });
    await assert.rejects(root.update({ force: true }), isAptError(AptErrorCode.Update, /'vanishing'/));
    const later = root.lastUpdate();
    assert.deepEqual(later?.at, good?.at);
    assert.notEqual(later?.generation, good?.generation);
  });

  it('refuses a value with a new line before it writes anything (FORGE_ERR_APT_SOURCES)', async () => {
    const dir = join(work, 'state-injected');
    for (const change of [
      { uris: [`${repo.uris[0]}\nTrusted: yes`] },
      { suites: ['./\nTrusted: yes'] },
      { id: 'local\nTrusted: yes' },
    ]) {
      await assert.rejects(
        openRoot({ stateDir: dir, repositories: [{ ...repo, trusted: false, ...change }] }),
        isAptError(AptErrorCode.Sources, /has (white space or )?control characters/),
      );
    }
    assert.equal(existsSync(join(dir, 'apt')), false, 'no root was laid out');
  });

  it('fails on a keyring file that does not exist', async () => {
    await assert.rejects(
      openRoot({
        stateDir,
        repositories: [{ ...repo, id: 'k', trusted: false, signedBy: join(work, 'missing.gpg') }],
      }),
      isAptError(AptErrorCode.Keyring, /missing\.gpg does not exist/),
    );
  });
});

describe("apt root against the host's Debian mirror (the small -updates suite)", () => {
  const stateDir = join(work, 'state-mirror');
  // The mirror comes from this machine's apt sources; only bookworm-updates, to keep downloads small.
  const repos = debianRepositories('bookworm')
    .map((r) => ({ ...r, suites: r.suites.filter((s) => s.endsWith('-updates')) }))
    .filter((r) => r.suites.length > 0);
  const gnupg = join(work, 'gnupg');

  before(() => {
    mkdirSync(gnupg, { mode: 0o700 });
  });

  it('has a Debian -updates repository to test with', () => {
    assert.ok(repos.length > 0, 'the host apt sources name no bookworm/trixie -updates suite');
    assert.equal(repos[0]?.signedBy, DEBIAN_ARCHIVE_KEYRING);
  });

  it('updates, verifying InRelease with the Debian archive keyring, and reuses the lists', async () => {
    const root = await openRoot({ stateDir, repositories: repos });
    const u = await root.update();
    assert.equal(u.updated, true);
    const lists = readdirSync(join(root.dir, 'var/lib/apt/lists'));
    assert.ok(lists.some((f) => f.endsWith('_InRelease')));
    assert.ok(lists.some((f) => f.endsWith('_Packages')));
    const again = await root.update();
    assert.equal(again.updated, false);
    assert.ok(again.seconds < 0.1);
  });

  it('fails with FORGE_ERR_APT_SIGNATURE naming the repository when the keyring is wrong', async () => {
    const gen = spawnSync(
      'gpg',
      [
        '--homedir',
        gnupg,
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'Forge Test <wrong@example.org>',
        'ed25519',
        'sign',
        'never',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(gen.status, 0, gen.stderr);
    const wrong = join(work, 'wrong.gpg');
    const exp = spawnSync('gpg', [
      '--homedir',
      gnupg,
      '--batch',
      '--output',
      wrong,
      '--export',
      'wrong@example.org',
    ]);
    assert.equal(exp.status, 0, String(exp.stderr));
    const bad = repos.map((r) => ({ ...r, id: `wrong-key-${r.id}`, signedBy: wrong }));
    const root = await openRoot({ stateDir, repositories: bad });
    await assert.rejects(root.update(), (e: unknown) => {
      isAptError(AptErrorCode.Signature, /NO_PUBKEY|not signed|couldn't be verified/)(e);
      assert.equal((e as AptError).repository, bad[0]?.id);
      assert.ok(e instanceof AptError && e.message.includes(`'${bad[0]?.id}'`));
      assert.ok(e instanceof AptError && e.message.includes(wrong), 'names the keyring');
      return true;
    });
    assert.equal(root.lastUpdate(), undefined, 'a failed update leaves no stamp');
  });

  it('dearmours an ASCII-armoured Signed-By block into the root', async () => {
    const exp = spawnSync(
      'gpg',
      [
        '--homedir',
        gnupg,
        '--batch',
        '--no-default-keyring',
        '--keyring',
        DEBIAN_ARCHIVE_KEYRING,
        '--armor',
        '--export',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(exp.status, 0, exp.stderr);
    assert.match(exp.stdout, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const armoured = repos.map((r) => ({ ...r, id: `armoured-${r.id}`, signedBy: exp.stdout }));
    const root = await openRoot({ stateDir, repositories: armoured });
    const keyrings = readdirSync(join(root.dir, 'keyrings')).filter((f) => f.endsWith('.gpg'));
    assert.equal(keyrings.length, 1);
    const sources = readFileSync(join(root.dir, 'etc/apt/sources.list.d/forge.sources'), 'utf8');
    assert.ok(sources.includes(`Signed-By: ${join(root.dir, 'keyrings', keyrings[0] ?? '')}`));
    assert.equal((await root.update()).updated, true);
  });
});
