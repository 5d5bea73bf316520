/**
 * Every blueprint in the repository's blueprints/ folder parses, prints back to the same
 * blueprint, and the server example's test credentials are what its comments say.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sha512Crypt } from './crypt.ts';
import { parseBlueprint, toJson, toToml } from './format.ts';

const DIR = join(import.meta.dirname, '..', '..', '..', 'blueprints');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.toml') || f.endsWith('.json'))
  .sort();

describe('blueprints/', () => {
  it('holds the minimal and server examples', () => {
    assert.ok(FILES.includes('minimal.toml'), 'minimal.toml');
    assert.ok(FILES.includes('server.toml'), 'server.toml');
  });

  for (const file of FILES) {
    it(`${file} is a valid blueprint that round-trips`, () => {
      const bp = parseBlueprint(readFileSync(join(DIR, file), 'utf8'));
      assert.equal(bp.name, file.replace(/\.(toml|json)$/, ''), 'the name matches the file name');
      assert.deepEqual(parseBlueprint(toToml(bp)), bp);
      assert.deepEqual(parseBlueprint(toJson(bp)), bp);
    });
  }

  it('minimal.toml has a couple of small packages and a host name', () => {
    const bp = parseBlueprint(readFileSync(join(DIR, 'minimal.toml'), 'utf8'));
    assert.deepEqual(
      bp.packages.map((p) => p.name),
      ['less', 'nano'],
    );
    assert.equal(bp.customizations?.hostname, 'forge-minimal');
  });

  it('server.toml has ssh, a user with key and password, a service, a firewall port and the rest', () => {
    const text = readFileSync(join(DIR, 'server.toml'), 'utf8');
    const bp = parseBlueprint(text);
    const c = bp.customizations;
    assert.deepEqual(
      bp.packages.map((p) => p.name),
      ['openssh-server', 'curl', 'nginx', 'sudo'],
    );
    assert.equal(c?.hostname, 'forge-server');
    assert.equal(c?.kernel?.append, 'console=ttyS0');
    assert.deepEqual(c?.services?.enabled, ['ssh', 'nginx']);
    assert.ok(c?.firewall?.ports?.includes('80:tcp'));
    assert.ok(c?.firewall?.ports?.includes('22:tcp'), 'ssh stays reachable behind the firewall');
    assert.equal(c?.timezone?.timezone, 'Europe/Berlin');
    assert.deepEqual(c?.locale, { languages: ['en_US.UTF-8'], keyboard: 'us' });
    const forge = c?.user?.find((u) => u.name === 'forge');
    assert.ok(forge, 'user forge');
    assert.deepEqual(forge.groups, ['sudo']);

    // The documented test password is the one hashed in the blueprint.
    assert.match(text, /the password of "forge" is "forge-test-password"/);
    const hash = forge.password ?? '';
    const salt = hash.split('$')[2] ?? '';
    assert.equal(sha512Crypt('forge-test-password', salt), hash);

    // blueprints/server.key is the private half of the user's key, and says it is a test key.
    const keyFile = readFileSync(join(DIR, 'server.key'), 'utf8');
    assert.match(keyFile, /TEST KEY ONLY/);
    const body = keyFile.match(
      /-----BEGIN OPENSSH PRIVATE KEY-----\n([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/,
    );
    assert.ok(body, 'an OpenSSH private key');
    const blob = Buffer.from((body[1] as string).replace(/\s/g, ''), 'base64');
    const magic = 'openssh-key-v1\0';
    assert.equal(blob.subarray(0, magic.length).toString('latin1'), magic);
    let at = magic.length;
    const str = () => {
      const n = blob.readUInt32BE(at);
      const s = blob.subarray(at + 4, at + 4 + n);
      at += 4 + n;
      return s;
    };
    assert.equal(str().toString(), 'none', 'cipher: the test key has no passphrase');
    assert.equal(str().toString(), 'none', 'kdf');
    str(); // kdf options
    assert.equal(blob.readUInt32BE(at), 1, 'one key');
    at += 4;
    const publicBlob = str().toString('base64');
    const [type, data] = (forge.key ?? '').split(' ');
    assert.equal(type, 'ssh-ed25519');
    assert.equal(data, publicBlob);
  });
});
