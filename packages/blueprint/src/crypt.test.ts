import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptPasswords, isCryptedPassword, randomSalt, sha512Crypt } from './crypt.ts';
import { validateBlueprint } from './schema.ts';

describe('sha512Crypt', () => {
  it('matches glibc crypt / openssl passwd -6', () => {
    // openssl passwd -6 -salt abcdefgh password
    assert.equal(
      sha512Crypt('password', 'abcdefgh'),
      '$6$abcdefgh$yVfUwsw5T.JApa8POvClA1pQ5peiq97DUNyXCZN5IrF.BMSkiaLQ5kvpuEm/VQ1Tvh/KV2TcaWh8qinoW5dhA1',
    );
    // A password longer than a SHA-512 block, with non-ASCII characters, and a 16-character salt.
    assert.equal(
      sha512Crypt(
        'a much longer password with ünïcode that goes beyond sixty four bytes for sure, yes',
        'saltsaltsaltsalt',
      ),
      '$6$saltsaltsaltsalt$mgaF77e.43TCfulur.rU8XVFFxKM1emFm73sC9j/FJs14NX2Z78auS9qMpv0tydTXFL/N2e2wva4jGOXhOgU21',
    );
    // Test vector of the SHA-crypt specification.
    assert.equal(
      sha512Crypt('Hello world!', 'saltstring'),
      '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    );
    assert.equal(
      sha512Crypt('Hello world!', 'saltstringsaltstring', 10000),
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    );
  });

  it('makes a fresh 16-character salt each time', () => {
    const a = randomSalt();
    assert.match(a, /^[./0-9A-Za-z]{16}$/);
    assert.notEqual(a, randomSalt());
    assert.match(sha512Crypt('x'), /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });
});

describe('cryptPasswords', () => {
  it('hashes plain passwords, keeps hashes, drops empty ones', () => {
    const bp = validateBlueprint({
      name: 'u',
      customizations: {
        user: [
          { name: 'plain', password: 'secret' },
          { name: 'hashed', password: '$6$abc$def' },
          { name: 'empty', password: '' },
          { name: 'none' },
        ],
      },
    });
    const out = cryptPasswords(bp, () => 'fixedsalt');
    assert.deepEqual(out.customizations?.user, [
      { name: 'plain', password: sha512Crypt('secret', 'fixedsalt') },
      { name: 'hashed', password: '$6$abc$def' },
      { name: 'empty' },
      { name: 'none' },
    ]);
    assert.equal(bp.customizations?.user?.[0]?.password, 'secret', 'the input is left alone');
    const noUsers = validateBlueprint({ name: 'n' });
    assert.equal(cryptPasswords(noUsers), noUsers);
  });

  it('recognises crypt hash prefixes', () => {
    for (const p of ['$1$a$b', '$5$a$b', '$6$a$b', '$y$j9T$a$b', '$2b$10$abc'])
      assert.equal(isCryptedPassword(p), true, p);
    for (const p of ['secret', '$6', '6$a$b']) assert.equal(isCryptedPassword(p), false, p);
  });
});
