import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as init } from '../org.osbuild.ostree.init/stage.ts';
import { main } from './stage.ts';

describe('org.osbuild.ostree.remotes', { skip: !hasProgram('ostree') && 'ostree is not installed' }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    init(root.args({ mode: 'bare', path: '/ostree/repo' }));
  });
  afterEach(() => root.cleanup());
  const repo = () => join(root.tree, 'ostree/repo');
  const ostree = (...argv: string[]) =>
    execFileSync('ostree', [...argv, `--repo=${repo()}`], { encoding: 'utf8' }).trim();

  it('adds remotes with and without signature checking, once', () => {
    const options = {
      repo: '/ostree/repo',
      remotes: [
        { name: 'origin', url: 'http://127.0.0.1:8000/repo', branches: ['debian/12/x86_64/atomic'] },
        {
          name: 'signed',
          url: 'https://example.org/repo',
          contenturl: 'mirrorlist=https://example.org/mirrors',
          gpgkeypaths: ['/etc/pki/ostree/a.asc', '/etc/pki/ostree/b.asc'],
        },
      ],
    };
    main(root.args(options));
    main(root.args(options));
    assert.equal(ostree('remote', 'list'), 'origin\nsigned');
    assert.equal(ostree('remote', 'show-url', 'origin'), 'http://127.0.0.1:8000/repo');
    assert.equal(ostree('config', 'get', 'remote "origin".gpg-verify'), 'false');
    assert.equal(ostree('config', 'get', 'remote "origin".branches'), 'debian/12/x86_64/atomic;');
    assert.equal(ostree('config', 'get', 'remote "signed".gpg-verify'), 'true');
    assert.equal(
      ostree('config', 'get', 'remote "signed".gpgkeypath'),
      '/etc/pki/ostree/a.asc,/etc/pki/ostree/b.asc',
    );
    assert.equal(
      ostree('config', 'get', 'remote "signed".contenturl'),
      'mirrorlist=https://example.org/mirrors',
    );
  });

  it('imports armored keys', { skip: !hasProgram('gpg') && 'gpg is not installed' }, () => {
    const home = join(root.dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    const gpg = (...argv: string[]) =>
      execFileSync('gpg', ['--homedir', home, '--batch', ...argv], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    gpg('--passphrase', '', '--quick-gen-key', 'Forge Test <test@invalid>', 'ed25519', 'sign', 'never');
    const key = gpg('--armor', '--export', 'test@invalid');
    main(
      root.args({
        repo: '/ostree/repo',
        remotes: [{ name: 'keyed', url: 'file:///srv/repo', gpgkeys: [key] }],
      }),
    );
    // No gpg-verify=false: ostree checks signatures by default.
    assert.doesNotMatch(readFileSync(join(repo(), 'config'), 'utf8'), /gpg-verify=false/);
    assert.match(ostree('remote', 'gpg-list-keys', 'keyed'), /Forge Test <test@invalid>/);
  });

  it('stays inside the tree and refuses a bad remote name', () => {
    main(root.args({ repo: '/../../ostree/repo', remotes: [{ name: 'a', url: 'file:///r' }] }));
    assert.equal(ostree('remote', 'list'), 'a');
    assert.throws(
      () => main(root.args({ repo: '/ostree/repo', remotes: [{ name: '-x', url: 'file:///r' }] })),
      /invalid remote name/,
    );
  });
});
