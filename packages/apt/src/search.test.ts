import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AptError, AptErrorCode } from './errors.ts';
import { buildLocalRepository } from './local-repo.ts';
import { loadIndex } from './packages.ts';
import { type AptRoot, openRoot } from './root.ts';
import { globToRegExp, info, infoMany, search } from './search.ts';
import { debianRepositories } from './sources.ts';
import { compareDebianVersions } from './version.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-search-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('globToRegExp', () => {
  it('matches shell-style globs on whole names', () => {
    assert.ok(globToRegExp('openssh-*').test('openssh-server'));
    assert.ok(!globToRegExp('openssh-*').test('xopenssh-server'));
    assert.ok(globToRegExp('lib?6').test('libc6'));
    assert.ok(globToRegExp('g++').test('g++'), '+ is literal');
    assert.ok(!globToRegExp('g++').test('ggg'));
    assert.ok(globToRegExp('python3.1[01]').test('python3.11'));
    assert.ok(globToRegExp('lib[!c]*').test('libz') && !globToRegExp('lib[!c]*').test('libc6'));
  });
});

describe("search and info over the host mirror's bookworm", () => {
  let root: AptRoot;

  before(async () => {
    root = await openRoot({ stateDir: join(work, 'state'), repositories: debianRepositories('bookworm') });
    await root.update();
  });

  it('loads the index of the whole archive (~64k packages) in a few seconds, once per update', async (t) => {
    const t0 = performance.now();
    const index = await loadIndex(root);
    const wall = (performance.now() - t0) / 1000;
    t.diagnostic(
      `index: ${index.records} records, ${index.names.length} names, parsed in ${index.loadSeconds.toFixed(2)} s (${wall.toFixed(2)} s wall)`,
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

describe('the index is rebuilt after an update', () => {
  it('sees a package added to a local repository once the root is updated again', async () => {
    const dir = join(work, 'repo');
    const repo = await buildLocalRepository(dir, [
      {
        name: 'forge-one',
        version: '1.0',
        summary: 'the first one',
        description: ['First line of the long description.', '', 'Second paragraph.'],
        section: 'misc',
      },
    ]);
    const root = await openRoot({ stateDir: join(work, 'state-local'), repositories: [repo] });
    const first = await loadIndex(root);
    assert.deepEqual(first.names, ['forge-one']);
    const one = await info(root, 'forge-one');
    assert.equal(one?.summary, 'the first one');
    assert.equal(one?.description, 'First line of the long description.\n\nSecond paragraph.');
    await buildLocalRepository(dir, [{ name: 'forge-two', version: '2.0' }]);
    await root.update({ force: true });
    const second = await loadIndex(root);
    assert.notEqual(second, first);
    assert.deepEqual(second.names, ['forge-one', 'forge-two']);
  });
});
