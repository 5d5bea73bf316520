import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Repository } from '@debian-forge/apt';
import { getDistro } from '@debian-forge/composer';
import type { Source } from '@debian-forge/store';
import { sourceRepository, sourcesFor, storedSource, systemSources } from './sources.ts';

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
  const base = {
    id: 'extra',
    name: 'Extra packages',
    url: 'http://mirror.invalid/extra',
    suites: [],
    components: [],
    signedBy: [],
    checkGpg: true,
    checkSsl: true,
    system: false,
    distros: [],
  };
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
  const source = (name: string, distros: string[]): Source => ({
    name,
    displayName: name,
    type: 'deb',
    url: 'https://mirror.invalid/extra',
    suites: [],
    components: [],
    signedBy: [],
    checkGpg: true,
    checkSsl: name !== 'insecure',
    system: false,
    distros,
    createdAt: '',
    updatedAt: '',
  });
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
