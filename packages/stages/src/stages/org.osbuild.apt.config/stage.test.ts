import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StageError } from '../../shared/errors.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** Runs a program, returning its standard output; fails the test when it fails. */
function run(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', env });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** One armoured key exported from the Debian archive keyring by gpg, or undefined without gpg. */
function armouredKey(home: string): { armoured: string; binary: Buffer } | undefined {
  if (spawnSync('gpg', ['--version'], { stdio: 'ignore' }).status !== 0 || !existsSync(DEBIAN_KEYRING)) {
    return undefined;
  }
  mkdirSync(home, { mode: 0o700 });
  const gpg = [
    'gpg',
    '--homedir',
    home,
    '--batch',
    '--quiet',
    '--no-default-keyring',
    '--keyring',
    DEBIAN_KEYRING,
  ];
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(run([...gpg, '--with-colons', '--list-keys']))?.[1];
  assert.ok(fpr);
  const armoured = run([...gpg, '--armor', '--export', fpr]);
  const binary = spawnSync('gpg', ['--homedir', home, '--batch', '--dearmor'], { input: armoured }).stdout;
  return { armoured, binary };
}

describe('org.osbuild.apt.config', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot('forge-apt-config-');
    mkdirSync(join(root.tree, 'etc/apt/sources.list.d'), { recursive: true });
    writeFileSync(join(root.tree, 'etc/apt/sources.list'), 'deb file:/tmp/forge-repo ./\n');
  });
  afterEach(() => root.cleanup());

  it('writes sources, preferences, configuration and keyrings exactly, and apt reads them', (t) => {
    const key = armouredKey(join(root.dir, 'gnupg'));
    main(
      root.args({
        sources: {
          debian: {
            uris: ['https://deb.example.org/debian'],
            suites: ['bookworm', 'bookworm-updates'],
            components: ['main', 'contrib'],
            'signed-by': '/usr/share/keyrings/debian-archive-keyring.gpg',
          },
          local: {
            types: ['deb', 'deb-src'],
            uris: ['file:/srv/repo'],
            suites: ['./'],
            components: [],
            enabled: false,
          },
        },
        preferences: {
          backports: [
            { package: '*', pin: 'release n=bookworm-backports', 'pin-priority': 100 },
            { package: 'linux-image-*', pin: 'version 6.1*', 'pin-priority': 990 },
          ],
        },
        config: {
          '99forge': {
            'APT::Install-Recommends': false,
            'Acquire::Retries': 3,
            'DPkg::Options': ['--force-confdef', '--force-confold'],
            'Acquire::http::Proxy': 'http://proxy.example.org:3128/',
          },
        },
        ...(key ? { keyrings: { 'debian.asc': key.armoured, 'debian.gpg': key.armoured } } : {}),
        'remove-sources-list': true,
      }),
    );
    const etc = join(root.tree, 'etc/apt');
    assert.equal(
      readFileSync(join(etc, 'sources.list.d/debian.sources'), 'utf8'),
      'Types: deb\nURIs: https://deb.example.org/debian\nSuites: bookworm bookworm-updates\n' +
        'Components: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
    );
    assert.equal(
      readFileSync(join(etc, 'sources.list.d/local.sources'), 'utf8'),
      'Types: deb deb-src\nURIs: file:/srv/repo\nSuites: ./\nEnabled: no\n',
    );
    assert.equal(
      readFileSync(join(etc, 'preferences.d/backports'), 'utf8'),
      'Package: *\nPin: release n=bookworm-backports\nPin-Priority: 100\n\n' +
        'Package: linux-image-*\nPin: version 6.1*\nPin-Priority: 990\n',
    );
    const conf = join(etc, 'apt.conf.d/99forge');
    assert.equal(
      readFileSync(conf, 'utf8'),
      'APT::Install-Recommends "false";\nAcquire::Retries "3";\n' +
        'DPkg::Options { "--force-confdef"; "--force-confold"; };\n' +
        'Acquire::http::Proxy "http://proxy.example.org:3128/";\n',
    );
    assert.equal(statSync(conf).mode & 0o777, 0o644);
    assert.equal(existsSync(join(etc, 'sources.list')), false);

    // apt itself reads the configuration and the sources as written
    const dump = run(['apt-config', 'dump'], { ...process.env, APT_CONFIG: conf });
    assert.match(dump, /^APT::Install-Recommends "false";$/m);
    assert.match(dump, /^DPkg::Options:: "--force-confdef";$/m);
    assert.match(dump, /^DPkg::Options:: "--force-confold";$/m);
    assert.match(dump, /^Acquire::http::Proxy "http:\/\/proxy.example.org:3128\/";$/m);
    const lists = join(root.dir, 'lists');
    mkdirSync(join(lists, 'partial'), { recursive: true });
    const targets = run([
      'apt-get',
      '-o',
      'Dir::Etc::SourceList=/dev/null',
      '-o',
      `Dir::Etc::SourceParts=${join(etc, 'sources.list.d')}`,
      '-o',
      `Dir::State::Lists=${lists}`,
      '-o',
      'APT::Architectures=amd64',
      'indextargets',
      '--no-release-info',
      '--format',
      '$(URI)',
    ]);
    assert.match(
      targets,
      /^https:\/\/deb.example.org\/debian\/dists\/bookworm-updates\/contrib\/binary-amd64\/Packages/m,
    );
    assert.doesNotMatch(targets, /srv\/repo/, 'the disabled source is ignored');

    if (!key) {
      t.diagnostic('gpg or the Debian archive keyring is missing: keyrings not checked');
      return;
    }
    assert.equal(readFileSync(join(etc, 'keyrings/debian.asc'), 'utf8'), key.armoured);
    assert.deepEqual(readFileSync(join(etc, 'keyrings/debian.gpg')), key.binary);
  });

  it('rejects names with "/" or "..", values apt cannot hold, and damaged keys', () => {
    const bad: object[] = [
      { sources: { '../evil': { uris: ['http://x/'], suites: ['s'], components: ['main'] } } },
      { sources: { 'a/b': { uris: ['http://x/'], suites: ['s'], components: ['main'] } } },
      { preferences: { '..': [{ package: '*', pin: 'release a=x', 'pin-priority': 1 }] } },
      { config: { 'x..y': { 'APT::Get::Assume-Yes': true } } },
      { config: { good: { 'APT::Bad Key': true } } },
      { config: { good: { 'APT::Key': 'say "hi"' } } },
      { keyrings: { '../../etc/shadow.gpg': '-----BEGIN PGP PUBLIC KEY BLOCK-----' } },
      { keyrings: { 'key.pem': '-----BEGIN PGP PUBLIC KEY BLOCK-----' } },
      { sources: { s: { uris: ['http://x/'], suites: ['bookworm'], components: [] } } },
      { sources: { s: { uris: ['http://x/ y'], suites: ['bookworm'], components: ['main'] } } },
      { preferences: { p: [{ package: '*\nPin: x', pin: 'release a=x', 'pin-priority': 1 }] } },
      {
        keyrings: {
          'k.gpg':
            '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n',
        },
      },
    ];
    for (const options of bad) {
      assert.throws(() => main(root.args(options as Parameters<typeof main>[0]['options'])), StageError);
    }
    assert.equal(existsSync(join(root.dir, 'evil.sources')), false);
    assert.equal(existsSync(join(root.tree, 'etc/apt/sources.list')), true);
  });

  it('stays inside the tree when its apt directories are symbolic links out of it', () => {
    const outside = join(root.dir, 'outside');
    mkdirSync(outside);
    mkdirSync(join(root.tree, 'etc/apt/preferences.d'), { recursive: true });
    symlinkSync('/../../../../outside', join(root.tree, 'etc/apt/apt.conf.d'));
    main(root.args({ config: { '10x': { 'APT::Get::Assume-Yes': true } } }));
    assert.equal(existsSync(join(outside, '10x')), false);
    assert.equal(readFileSync(join(root.tree, 'outside/10x'), 'utf8'), 'APT::Get::Assume-Yes "true";\n');
  });
});
