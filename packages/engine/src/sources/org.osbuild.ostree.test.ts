import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { which } from '@debian-forge/host';
import type { Source } from '@debian-forge/manifest';
import { type StaticServer, serveStatic } from '../http-static.fixture.ts';
import { commitFiles, hasOstree, ostree } from '../ostree.fixture.ts';
import { fetchSources } from './index.ts';

const hasGpg = which('gpg') !== undefined && which('gpgconf') !== undefined;

describe('source org.osbuild.ostree', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let work: string;
  let served: StaticServer;
  let plain: string;
  let signed: string;
  let local: string;
  let publicKey = '';
  let otherKey = '';
  const gnupg = () => join(work, 'gnupg');

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'forge-ostree-source-'));
    const repo = join(work, 'www/repo');
    mkdirSync(join(work, 'www'));
    plain = commitFiles(repo, join(work, 'plain'), 'debian/plain', { 'usr/etc/motd': 'plain\n' });
    signed = commitFiles(repo, join(work, 'signed'), 'debian/signed', { 'usr/etc/motd': 'signed\n' });
    local = commitFiles(join(work, 'local'), join(work, 'c'), 'debian/local', { 'usr/share/x': 'local\n' });
    if (hasGpg) {
      // A throwaway signing key, and another that signed nothing.
      mkdirSync(gnupg(), { mode: 0o700 });
      const gpg = (...argv: string[]) =>
        execFileSync('gpg', ['--homedir', gnupg(), '--batch', '--quiet', ...argv], { encoding: 'utf8' });
      gpg(
        '--passphrase',
        '',
        '--quick-gen-key',
        'Forge Test <signer@forge.invalid>',
        'ed25519',
        'sign',
        'never',
      );
      gpg(
        '--passphrase',
        '',
        '--quick-gen-key',
        'Forge Other <other@forge.invalid>',
        'ed25519',
        'sign',
        'never',
      );
      publicKey = gpg('--armor', '--export', 'signer@forge.invalid');
      otherKey = gpg('--armor', '--export', 'other@forge.invalid');
      ostree(repo, 'gpg-sign', `--gpg-homedir=${gnupg()}`, signed, 'signer@forge.invalid');
    }
    served = await serveStatic(join(work, 'www'));
  });
  after(async () => {
    await served?.close();
    if (hasGpg) execFileSync('gpgconf', ['--homedir', gnupg(), '--kill', 'gpg-agent']);
    rmSync(work, { recursive: true, force: true });
  });

  const fetch = (sourcesDir: string, items: Record<string, unknown>) =>
    fetchSources([{ type: 'org.osbuild.ostree', items, options: {} } as Source], join(work, sourcesDir), {
      backoffMs: 10,
    }).then((r) => r[0]);
  const cache = (sourcesDir: string) => join(work, sourcesDir, 'org.osbuild.ostree/repo');

  it('pulls commits over http and file:// into an archive repository, once', async () => {
    const r = await fetch('sources', {
      [plain]: { remote: { url: `${served.url}/repo` } },
      [local]: { remote: { url: pathToFileURL(join(work, 'local')).href } },
    });
    assert.deepEqual(r?.items, [
      { checksum: plain, cached: false },
      { checksum: local, cached: false },
    ]);
    assert.equal(r?.success, true);
    assert.match(readFileSync(join(cache('sources'), 'config'), 'utf8'), /^mode=archive/m);
    assert.equal(ostree(cache('sources'), 'cat', plain, '/usr/etc/motd'), 'plain');
    assert.equal(ostree(cache('sources'), 'cat', local, '/usr/share/x'), 'local');
    assert.ok(served.requests.some((p) => p.startsWith('/repo/objects/')));
    // The temporary remotes are gone.
    assert.equal(ostree(cache('sources'), 'remote', 'list'), '');
    const before = served.requests.length;
    const again = await fetch('sources', { [plain]: { remote: { url: `${served.url}/repo` } } });
    assert.deepEqual(again?.items, [{ checksum: plain, cached: true }]);
    assert.equal(served.requests.length, before);
  });

  it('pulls for several builds sharing the store at once, each through a remote of its own', async () => {
    // Each pull adds and deletes a remote in the one repository's config; none may lose another's.
    const url = `${served.url}/repo`;
    const pulls = await Promise.all(
      [plain, signed, local, plain, signed, local].map((commit) =>
        fetch('shared', {
          [commit]: { remote: { url: commit === local ? pathToFileURL(join(work, 'local')).href : url } },
        }),
      ),
    );
    for (const r of pulls) assert.equal(r?.success, true, JSON.stringify(r?.items));
    assert.equal(ostree(cache('shared'), 'cat', signed, '/usr/etc/motd'), 'signed');
    assert.equal(ostree(cache('shared'), 'remote', 'list'), '');
  });

  it('takes the objects from contenturl and only the metadata from url', async () => {
    // The url's repository has nothing but its config.
    mkdirSync(join(work, 'meta/repo'), { recursive: true });
    copyFileSync(join(work, 'www/repo/config'), join(work, 'meta/repo/config'));
    const meta = await serveStatic(join(work, 'meta'));
    try {
      const before = served.requests.length;
      const r = await fetch('content', {
        [plain]: { remote: { url: `${meta.url}/repo`, contenturl: `${served.url}/repo` } },
      });
      assert.deepEqual(r?.items, [{ checksum: plain, cached: false }]);
      // The url answers for the detached metadata (signatures), contenturl for everything else.
      const object = `/repo/objects/${plain.slice(0, 2)}/${plain.slice(2)}`;
      assert.deepEqual(meta.requests, [`${object}.commitmeta`]);
      assert.ok(served.requests.slice(before).includes(`${object}.commit`));
    } finally {
      await meta.close();
    }
  });

  it('verifies the signature when gpgkeys are given', {
    skip: !hasGpg && 'gpg is not installed',
  }, async () => {
    const url = `${served.url}/repo`;
    const ok = await fetch('signed', { [signed]: { remote: { url, gpgkeys: [publicKey] } } });
    assert.deepEqual(ok?.items, [{ checksum: signed, cached: false }]);
    assert.equal(ostree(cache('signed'), 'cat', signed, '/usr/etc/motd'), 'signed');
    // Unsigned, or signed by another key: refused, and not kept.
    const unsigned = await fetch('signed', { [plain]: { remote: { url, gpgkeys: [publicKey] } } });
    assert.match(unsigned?.items[0]?.error ?? '', /GPG/);
    const wrongKey = await fetch('wrong', { [signed]: { remote: { url, gpgkeys: [otherKey] } } });
    assert.equal(wrongKey?.success, false);
    assert.match(
      wrongKey?.items[0]?.error ?? '',
      new RegExp(`commit ${signed} could not be pulled from ${url}`),
    );
    assert.throws(() => ostree(cache('signed'), 'show', plain));
    assert.throws(() => ostree(cache('wrong'), 'show', signed));
  });

  it('fails, naming the commit and the URL, when the remote lacks the commit', async () => {
    const missing = 'ab'.repeat(32);
    const url = `${served.url}/repo`;
    const r = await fetch('missing', {
      [missing]: { remote: { url } },
      main: { remote: { url } },
    });
    assert.equal(r?.success, false);
    assert.match(
      r?.items[0]?.error ?? '',
      new RegExp(`^commit ${missing} could not be pulled from ${url}: `),
    );
    assert.match(r?.items[1]?.error ?? '', /invalid checksum "main"/);
    assert.throws(() => ostree(cache('missing'), 'show', missing));
    assert.equal(ostree(cache('missing'), 'remote', 'list'), '');
  });
});
