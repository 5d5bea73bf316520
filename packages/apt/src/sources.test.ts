import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AptError, AptErrorCode } from './errors.ts';
import {
  DEBIAN_ARCHIVE_KEYRING,
  debianCodename,
  debianRepositories,
  isDebianRepository,
  parseDeb822Sources,
  parseOneLineSources,
  type Repository,
  readHostSources,
  repositoryWriteProblem,
} from './sources.ts';

const HOST = join(import.meta.dirname, 'fixtures/host');
const paths = { sourcesList: join(HOST, 'sources.list'), sourcesDir: join(HOST, 'sources.list.d') };

describe('parseDeb822Sources', () => {
  const repos = parseDeb822Sources(
    readFileSync(join(HOST, 'sources.list.d/debian.sources'), 'utf8'),
    'debian.sources',
  );

  it('reads each enabled stanza, skipping comments and Enabled: no', () => {
    assert.deepEqual(
      repos.map((r) => r.id),
      ['debian.sources#1', 'debian.sources#3'],
    );
    assert.deepEqual(repos[0], {
      id: 'debian.sources#1',
      types: ['deb'],
      uris: ['http://mirror.example.org/debian'],
      suites: ['bookworm', 'bookworm-updates'],
      components: ['main'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
    assert.deepEqual(repos[1]?.types, ['deb', 'deb-src']);
    assert.deepEqual(repos[1]?.components, ['main', 'non-free-firmware']);
  });

  it('keeps an inline Signed-By key block as armoured text, " ." as an empty line', () => {
    const [node] = parseDeb822Sources(
      readFileSync(join(HOST, 'sources.list.d/nodesource.sources'), 'utf8'),
      'nodesource.sources',
    );
    assert.ok(node);
    assert.equal(
      node.signedBy,
      '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZbGVrRYJKwYBBAHaRw8BAQdAfakefakefakefakefakefakefakefakefake\n=fake\n-----END PGP PUBLIC KEY BLOCK-----\n',
    );
    assert.deepEqual(node.architectures, ['amd64', 'arm64']);
  });

  it('rejects a stanza without URIs, naming the file and line', () => {
    assert.throws(
      () => parseDeb822Sources('Types: deb\nSuites: bookworm\n', 'x.sources'),
      (e: unknown) =>
        e instanceof AptError && e.code === AptErrorCode.Sources && /x\.sources:1/.test(e.message),
    );
    assert.throws(
      () => parseDeb822Sources('Types: rpm\nURIs: http://a.example.org\nSuites: a\n', 'y.sources'),
      /rpm/,
    );
  });
});

describe('parseOneLineSources', () => {
  const repos = parseOneLineSources(readFileSync(join(HOST, 'sources.list'), 'utf8'), 'sources.list');

  it('reads deb and deb-src lines with options and strips comments', () => {
    assert.equal(repos.length, 5);
    assert.deepEqual(repos[0], {
      id: 'sources.list:2',
      types: ['deb'],
      uris: ['http://mirror.example.org/debian'],
      suites: ['bookworm'],
      components: ['main', 'contrib', 'non-free-firmware'],
    });
    assert.deepEqual(repos[1]?.types, ['deb-src']);
    assert.deepEqual(repos[2], {
      id: 'sources.list:5',
      types: ['deb'],
      uris: ['http://mirror.example.org/debian'],
      suites: ['bookworm-updates'],
      components: ['main'],
      architectures: ['amd64'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
  });

  it('reads trusted=yes and flat repositories', () => {
    const [local] = parseOneLineSources('deb [ trusted=yes ] file:/srv/repo ./\n', 'local.list');
    assert.deepEqual(local, {
      id: 'local.list:1',
      types: ['deb'],
      uris: ['file:/srv/repo'],
      suites: ['./'],
      components: [],
      trusted: true,
    });
  });

  it('rejects a line it cannot read', () => {
    assert.throws(
      () => parseOneLineSources('deb http://only-a-uri.example.org\n', 'bad.list'),
      /bad\.list:1/,
    );
  });
});

describe('readHostSources and the Debian rule', () => {
  const all = readHostSources(paths);

  it('reads sources.list, then *.list and *.sources in name order, ignoring other file names', () => {
    assert.deepEqual(
      all.map((r) => r.id),
      [
        'sources.list:2',
        'sources.list:3',
        'sources.list:5',
        'sources.list:6',
        'sources.list:9',
        'cloud-sdk.list:1',
        'debian.sources#1',
        'debian.sources#3',
        'local.list:1',
        'nodesource.sources#1',
      ],
    );
    assert.ok(!all.some((r) => r.suites.includes('buster')), 'old.list.disabled is not read');
  });

  it('takes Debian-keyring entries and unsigned entries with only Debian suites and components', () => {
    const debian = all.filter(isDebianRepository).map((r) => r.id);
    assert.deepEqual(debian, [
      'sources.list:2',
      'sources.list:3',
      'sources.list:5',
      'sources.list:6',
      'debian.sources#1',
      'debian.sources#3',
    ]);
  });

  it('leaves out third parties: own keyring with a Debian suite, a non-Debian suite, an inline key, a flat repository', () => {
    const other = all.filter((r) => !isDebianRepository(r)).map((r) => r.id);
    assert.deepEqual(other, ['sources.list:9', 'cloud-sdk.list:1', 'local.list:1', 'nodesource.sources#1']);
    const docker: Repository = {
      id: 'x',
      types: ['deb'],
      uris: ['https://download.example.com/linux/debian'],
      suites: ['bookworm'],
      components: ['stable'],
    };
    assert.ok(!isDebianRepository(docker), 'a component Debian does not have');
  });

  it('reads nothing when the paths do not exist', () => {
    assert.deepEqual(
      readHostSources({ sourcesList: '/nonexistent/sources.list', sourcesDir: '/nonexistent/d' }),
      [],
    );
  });
});

describe('debianRepositories', () => {
  const host = readHostSources({ sourcesList: '/nonexistent', sourcesDir: join(HOST, 'sources.list.d') });

  it('substitutes the release in every suite and keeps URIs, components and keyring', () => {
    const trixie = debianRepositories('trixie', host);
    assert.deepEqual(trixie, [
      {
        id: 'debian.sources#1',
        types: ['deb'],
        uris: ['http://mirror.example.org/debian'],
        suites: ['trixie', 'trixie-updates'],
        components: ['main'],
        signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
      },
      {
        id: 'debian.sources#3',
        types: ['deb'],
        uris: ['http://mirror.example.org/debian-security'],
        suites: ['trixie-security'],
        components: ['main', 'non-free-firmware'],
        signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
      },
    ]);
  });

  it('accepts distro names: debian-12 is bookworm, debian-13 is trixie', () => {
    assert.equal(debianCodename('debian-12'), 'bookworm');
    assert.equal(debianCodename('debian-13'), 'trixie');
    assert.deepEqual(debianRepositories('debian-12', host)[0]?.suites, ['bookworm', 'bookworm-updates']);
    assert.throws(
      () => debianCodename('fedora-40'),
      (e: unknown) => e instanceof AptError && e.code === AptErrorCode.Request,
    );
  });

  it('maps old-style security suites and gives unsigned Debian entries the archive keyring', () => {
    const old = parseOneLineSources(
      'deb http://security.example.org/ buster/updates main\ndeb http://mirror.example.org/debian stable-updates main\n',
      'old.list',
    );
    const mapped = debianRepositories('trixie', old);
    assert.deepEqual(
      mapped.map((r) => r.suites),
      [['trixie-security'], ['trixie-updates']],
    );
    // The keyring is added only when the debian-archive-keyring package is installed (it is here).
    assert.ok(existsSync(DEBIAN_ARCHIVE_KEYRING));
    assert.equal(mapped[0]?.signedBy, DEBIAN_ARCHIVE_KEYRING);
  });

  it('fails with FORGE_ERR_APT_SOURCES when the host has no Debian repository', () => {
    const only = host.filter((r) => !isDebianRepository(r));
    assert.throws(
      () => debianRepositories('bookworm', only),
      (e: unknown) => e instanceof AptError && e.code === AptErrorCode.Sources,
    );
  });

  it('finds the Debian repositories of this machine (the mirror used by the other tests)', () => {
    const repos = debianRepositories('trixie');
    assert.ok(repos.length > 0);
    for (const r of repos)
      assert.ok(
        r.suites.every((s) => s.startsWith('trixie')),
        r.suites.join(' '),
      );
  });
});

describe('repositoryWriteProblem', () => {
  const good: Repository = {
    id: 'source-extra',
    types: ['deb'],
    uris: ['https://deb.example/debian'],
    suites: ['bookworm'],
    components: ['main'],
    signedBy: '/usr/share/keyrings/extra.gpg',
  };

  it('passes what apt can take as it is, an armoured key block included', () => {
    assert.equal(repositoryWriteProblem(good), undefined);
    const block = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGQ=\n-----END PGP PUBLIC KEY BLOCK-----\n';
    assert.equal(repositoryWriteProblem({ ...good, signedBy: block }), undefined);
    for (const repo of parseDeb822Sources(
      readFileSync(join(HOST, 'sources.list.d/debian.sources'), 'utf8'),
      'debian.sources',
    )) {
      assert.equal(repositoryWriteProblem(repo), undefined, repo.id);
    }
  });

  it('names every value that would add a line or a word to the sources file', () => {
    const inject = '\nTrusted: yes';
    const cases: [Partial<Repository>, string][] = [
      [
        { uris: [`https://deb.example/debian${inject}`] },
        'URIs value "https://deb.example/debian\\nTrusted: yes"',
      ],
      [
        { uris: ['https://a.example/ https://b.example/'] },
        'URIs value "https://a.example/ https://b.example/"',
      ],
      [{ suites: [`bookworm${inject}`] }, 'suites value "bookworm\\nTrusted: yes"'],
      [{ components: ['main', `contrib${inject}`] }, 'components value "contrib\\nTrusted: yes"'],
      [{ components: [''] }, 'components value ""'],
      [{ architectures: [`amd64${inject}`] }, 'architectures value "amd64\\nTrusted: yes"'],
      [{ signedBy: `/k.gpg${inject}` }, 'the keyring path value "/k.gpg\\nTrusted: yes"'],
      [{ types: [`deb${inject}` as 'deb'] }, 'types value "deb\\nTrusted: yes"'],
    ];
    for (const [change, what] of cases) {
      assert.equal(
        repositoryWriteProblem({ ...good, ...change }),
        `repository "source-extra": ${what} is empty or has white space or control characters`,
      );
    }
    assert.equal(
      repositoryWriteProblem({ ...good, id: `x${inject}` }),
      'repository id "x\\nTrusted: yes" has control characters',
    );
    assert.match(repositoryWriteProblem({ ...good, uris: [`${'u'.repeat(100_000)}\n`] }) ?? '', /"u{80}…"/);
  });
});
