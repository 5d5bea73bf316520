import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Repository } from '@debian-forge/apt';
import { getDistro } from '@debian-forge/composer';
import { openStore, type Source } from '@debian-forge/store';
import { createPackageService } from './packages.ts';
import { sourceProblem, sourceRepository, sourcesFor, storedSource, systemSources } from './sources.ts';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const host: Repository[] = [
  {
    id: 'debian.sources#1',
    types: ['deb'],
    uris: ['http://mirror.invalid/debian'],
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
    signedBy: KEYRING,
  },
  {
    id: 'debian.sources#2',
    types: ['deb'],
    uris: ['http://mirror.invalid/debian-security/'],
    suites: ['bookworm-security'],
    components: ['main'],
    signedBy: KEYRING,
  },
  {
    id: 'other.list:1',
    types: ['deb'],
    uris: ['http://other.invalid/debian'],
    suites: ['trixie'],
    components: ['main'],
    signedBy: KEYRING,
  },
  {
    id: 'vendor.sources#1',
    types: ['deb'],
    uris: ['https://vendor.invalid/apt'],
    suites: ['nodistro'],
    components: ['main'],
    signedBy: '/usr/share/keyrings/vendor.gpg',
  },
];

/** A stored user source with the defaults of a new one. */
function row(name: string, fields: Partial<Source> = {}): Source {
  return {
    name,
    displayName: name,
    type: 'deb',
    url: 'https://mirror.invalid/extra',
    suites: [],
    components: [],
    signedBy: [],
    checkGpg: true,
    checkSsl: true,
    system: false,
    distros: [],
    createdAt: '',
    updatedAt: '',
    ...fields,
  };
}

test("system sources: the host's Debian repositories for the distro's release, with unique names", () => {
  const trixie = getDistro('debian-13');
  assert.ok(trixie);
  const sources = systemSources(trixie, () => host);
  assert.deepEqual(
    sources.map((s) => [s.id, s.url, s.suites]),
    [
      ['debian', 'http://mirror.invalid/debian', ['trixie', 'trixie-updates']],
      ['debian-security', 'http://mirror.invalid/debian-security/', ['trixie-security']],
      ['debian-2', 'http://other.invalid/debian', ['trixie']],
    ],
  );
  assert.ok(sources.every((s) => s.system && s.checkGpg && s.signedBy[0] === KEYRING));
  assert.deepEqual(
    systemSources(trixie, () => [host[3] as Repository]),
    [],
    'no Debian repository gives no system source',
  );
});

test('a user source as an apt repository: the distro suite and main by default, flat without components', () => {
  const bookworm = getDistro('debian-12');
  assert.ok(bookworm);
  const base = storedSource(
    row('extra', { displayName: 'Extra packages', url: 'http://mirror.invalid/extra' }),
  );
  assert.deepEqual(sourceRepository(base, bookworm), {
    id: 'source-extra',
    types: ['deb'],
    uris: ['http://mirror.invalid/extra'],
    suites: ['bookworm'],
    components: ['main'],
  });
  const flat = sourceRepository({ ...base, suites: ['./'], checkGpg: false, signedBy: [KEYRING] }, bookworm);
  assert.deepEqual(flat.components, []);
  assert.equal(flat.trusted, true);
  assert.equal(flat.signedBy, KEYRING);
});

test('check_ssl false becomes verifyTls false; a source with distros is used only for those', () => {
  const bookworm = getDistro('debian-12');
  const trixie = getDistro('debian-13');
  assert.ok(bookworm && trixie);
  const source = (name: string, distros: string[]) => row(name, { distros, checkSsl: name !== 'insecure' });
  const stored = [
    source('everywhere', []),
    source('insecure', ['debian-13']),
    source('both', ['debian-12', 'debian-13']),
  ];
  assert.deepEqual(
    sourcesFor(stored, bookworm).map((s) => s.name),
    ['everywhere', 'both'],
  );
  assert.deepEqual(
    sourcesFor(stored, trixie).map((s) => s.name),
    ['everywhere', 'insecure', 'both'],
  );
  const repos = sourcesFor(stored, trixie).map((s) => sourceRepository(storedSource(s), trixie));
  assert.deepEqual(
    repos.map((r) => [r.id, r.verifyTls]),
    [
      ['source-everywhere', undefined],
      ['source-insecure', false],
      ['source-both', undefined],
    ],
  );
});

test('the source rule: the key is a name, every value apt gets is one line', () => {
  const good = {
    id: 'extra',
    name: 'Extra packages',
    url: 'https://mirror.invalid/extra',
    suites: ['bookworm'],
    components: ['main'],
    signedBy: [KEYRING],
  };
  assert.equal(sourceProblem(good), undefined);
  const inject = '\nTrusted: yes';
  const cases: [Partial<typeof good>, RegExp][] = [
    [{ id: '..' }, /^invalid source name "\.\."/],
    [{ id: 'x'.repeat(100_000) }, /^source name too long: 100000 characters, at most 100 allowed$/],
    [{ id: `x${inject}` }, /^invalid source name "x\\nTrusted: yes"/],
    [{ name: `Extra${inject}` }, /^'name' must be one line/],
    [{ name: 'n'.repeat(101) }, /^'name' too long: 101 characters/],
    [
      { url: `https://mirror.invalid/extra${inject}` },
      /^'url': invalid repository URI .*white space or control/,
    ],
    [{ url: 'ftp://mirror.invalid/extra' }, /^'url' must be an http, https or file URL/],
    [{ suites: [`bookworm${inject}`] }, /^'suites': invalid suite "bookworm\\nTrusted: yes"/],
    [
      { components: ['main', `contrib${inject}`] },
      /^'components': invalid component "contrib\\nTrusted: yes"/,
    ],
    [
      { signedBy: [`${KEYRING}${inject}`] },
      /^'signed_by': keyring path .* has white space or control characters/,
    ],
  ];
  for (const [change, problem] of cases) assert.match(sourceProblem({ ...good, ...change }) ?? '', problem);
});

test('a stored source that breaks the rule is left out of depsolves, and said so, the others stay', () => {
  const bookworm = getDistro('debian-12');
  assert.ok(bookworm);
  const stored = [
    row('good', { url: 'http://mirror.invalid/good' }),
    row('injected', { url: 'http://mirror.invalid/x\nTrusted: yes' }),
    row('n'.repeat(100_000), { url: 'http://mirror.invalid/long' }),
  ];
  const heard: string[] = [];
  const used = sourcesFor(stored, bookworm, (s, problem) => heard.push(`${s.name.slice(0, 10)}: ${problem}`));
  assert.deepEqual(
    used.map((s) => s.name),
    ['good'],
  );
  assert.deepEqual(heard, [
    'injected: \'url\': invalid repository URI "http://mirror.invalid/x\\nTrusted: yes": white space or control characters',
    'nnnnnnnnnn: source name too long: 100000 characters, at most 100 allowed',
  ]);
  // Whatever is used can be written into apt's sources file.
  assert.deepEqual(
    used.map((s) => sourceRepository(storedSource(s), bookworm).uris),
    [['http://mirror.invalid/good']],
  );
});

test('the package service leaves a bad stored source out and warns once per version of it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-sources-'));
  const store = openStore(join(dir, 'state.sqlite'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // The store keeps what it is given; an earlier API stored this.
  store.sources.put({ name: 'injected', url: 'http://mirror.invalid/x\nTrusted: yes' });
  store.sources.put({ name: 'good', url: 'http://mirror.invalid/good' });
  const warnings: string[] = [];
  const service = createPackageService({
    stateDir: dir,
    store,
    hostSources: () => host,
    hostDistro: 'debian-12',
    hostArch: 'x86_64',
    warn: (m) => warnings.push(m),
  });
  const bookworm = getDistro('debian-12');
  assert.ok(bookworm);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(
      service
        .repositories(bookworm)
        .map((r) => r.id)
        .filter((id) => id.startsWith('source-')),
      ['source-good'],
    );
  }
  assert.deepEqual(warnings, [
    'source "injected" is left out of depsolves and package queries: \'url\': invalid repository URI "http://mirror.invalid/x\\nTrusted: yes": white space or control characters',
  ]);
});
