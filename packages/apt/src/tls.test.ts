import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AptError, AptErrorCode } from './errors.ts';
import { runChecked } from './exec.ts';
import { buildLocalRepository } from './local-repo.ts';
import { openRoot } from './root.ts';
import type { Repository } from './sources.ts';
import { insecureHosts, onInsecureHost, tlsConfigLines } from './tls.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-tls-'));
after(() => rmSync(work, { recursive: true, force: true }));

const repo = (id: string, uri: string, verifyTls?: boolean): Repository => ({
  id,
  types: ['deb'],
  uris: [uri],
  suites: ['./'],
  components: [],
  ...(verifyTls === undefined ? {} : { verifyTls }),
});

describe('TLS checks turned off per host', () => {
  it('names the https hosts of the repositories without TLS checks, once each', () => {
    const repos = [
      repo('a', 'https://insecure.invalid:8443/debian', false),
      repo('b', 'https://insecure.invalid/other', false),
      repo('c', 'http://plain.invalid/debian', false),
      repo('d', 'https://checked.invalid/debian', true),
      repo('e', 'https://default.invalid/debian'),
    ];
    assert.deepEqual(insecureHosts(repos), ['insecure.invalid']);
    assert.deepEqual(tlsConfigLines(repos), [
      'Acquire::https::insecure.invalid::Verify-Peer "false";',
      'Acquire::https::insecure.invalid::Verify-Host "false";',
    ]);
    assert.deepEqual(tlsConfigLines(repos.slice(2)), []);
    assert.equal(onInsecureHost('https://insecure.invalid/pool/a.deb', ['insecure.invalid']), true);
    assert.equal(onInsecureHost('http://insecure.invalid/pool/a.deb', ['insecure.invalid']), false);
    assert.equal(onInsecureHost('https://checked.invalid/pool/a.deb', ['insecure.invalid']), false);
    assert.throws(
      () => insecureHosts([repo('v6', 'https://[::1]/debian', false)]),
      (e: unknown) => e instanceof AptError && e.code === AptErrorCode.Sources && /\[::1\]/.test(e.message),
    );
    // URLs allow quotes and ";" in host names; in apt.conf they would end the setting and start another.
    for (const host of ['a";x"', 'a;b', 'a{b}']) {
      assert.throws(
        () => tlsConfigLines([repo('q', `https://${host}/debian`, false)]),
        (e: unknown) => e instanceof AptError && e.code === AptErrorCode.Sources,
        host,
      );
    }
  });

  it("writes the per-host lines into a root's apt.conf only for that host; a root with TLS checks has none", async () => {
    const stateDir = join(work, 'state-conf');
    const insecure = await openRoot({
      stateDir,
      repositories: [
        repo('insecure', 'https://insecure.invalid/debian', false),
        repo('checked', 'https://checked.invalid/debian'),
      ],
    });
    const conf = readFileSync(insecure.configPath, 'utf8');
    assert.match(conf, /^Acquire::https::insecure\.invalid::Verify-Peer "false";$/m);
    assert.match(conf, /^Acquire::https::insecure\.invalid::Verify-Host "false";$/m);
    assert.doesNotMatch(conf, /checked\.invalid/);
    assert.equal(conf.match(/Verify-/g)?.length, 2);

    const checked = await openRoot({
      stateDir,
      repositories: [repo('insecure', 'https://insecure.invalid/debian', true)],
    });
    assert.notEqual(checked.dir, insecure.dir, 'the switch is part of the root key');
    assert.doesNotMatch(readFileSync(checked.configPath, 'utf8'), /Verify-/);
  });

  it('apt updates from an https repository with a self-signed certificate only with the checks off', async (t) => {
    const certDir = join(work, 'cert');
    mkdirSync(certDir);
    try {
      await runChecked([
        'openssl',
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=forge-test.invalid',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ]);
    } catch (err) {
      t.skip(`openssl could not make a certificate: ${(err as Error).message}`);
      return;
    }
    const local = await buildLocalRepository(join(work, 'repo'), [{ name: 'forge-tls', version: '1.0-1' }]);
    const dir = (local.uris[0] as string).slice('file:'.length);
    const server = createServer(
      { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
      (req, res) => {
        try {
          const body = readFileSync(join(dir, decodeURIComponent((req.url ?? '/').split('?')[0] as string)));
          res.writeHead(200, { 'content-length': body.length }).end(body);
        } catch {
          res.writeHead(404).end();
        }
      },
    );
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    t.after(() => server.close());
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const stateDir = join(work, 'state-https');

    const strict = await openRoot({ stateDir, repositories: [{ ...local, uris: [url] }] });
    await assert.rejects(
      strict.update(),
      (e: unknown) =>
        e instanceof AptError && e.code === AptErrorCode.Update && /certificate|handshake/i.test(e.message),
    );

    const relaxed = await openRoot({ stateDir, repositories: [{ ...local, uris: [url], verifyTls: false }] });
    assert.equal((await relaxed.update()).updated, true);
  });
});
