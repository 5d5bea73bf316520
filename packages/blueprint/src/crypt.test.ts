import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptBlueprint, cryptPasswords, isCryptedPassword, randomSalt, sha512Crypt } from './crypt.ts';
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

  it('recognises crypt hashes by their shape, not by their prefix alone', () => {
    const real = [
      '$1$a$b',
      '$5$a$b',
      '$6$a$b',
      '$y$j9T$a$b',
      '$2b$10$abc',
      sha512Crypt('x', 'abcdefgh'),
      sha512Crypt('x', 'abcdefgh', 10000),
      '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7',
    ];
    for (const p of real) assert.equal(isCryptedPassword(p), true, p);
    // Plain text that starts like a hash: composer would store these as they are.
    const plain = [
      'secret',
      '$6',
      '6$a$b',
      '$6$',
      '$6$abc',
      '$6$abc$',
      '$6$my secret$x',
      '$6$a$b\n',
      '$9$a$b',
    ];
    for (const p of plain) assert.equal(isCryptedPassword(p), false, JSON.stringify(p));
  });
});

describe('acceptBlueprint', () => {
  it('validates, then hashes plain passwords', () => {
    const r = acceptBlueprint(
      { name: 'u', customizations: { user: [{ name: 'admin', password: 'secret' }] } },
      () => 'fixedsalt',
    );
    assert.ok(r.ok);
    assert.equal(r.blueprint.customizations?.user?.[0]?.password, sha512Crypt('secret', 'fixedsalt'));
  });

  it('refuses what the schema refuses, naming each problem', () => {
    const r = acceptBlueprint({
      name: 'u',
      customizations: {
        user: [{ name: 'bad\nname', password: 'secret' }],
        directories: [{ path: 'tree:///../../etc' }],
        files: [{ path: '/../../etc/shadow', data: 'x' }],
      },
    });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.issues.map((i) => i.path.join('.')),
      ['customizations.user.0.name', 'customizations.directories.0.path', 'customizations.files.0.path'],
    );
    assert.ok(!JSON.stringify(r.issues).includes('secret'), 'no issue repeats the password');
  });
});
