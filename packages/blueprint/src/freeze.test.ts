import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlueprintError } from './errors.ts';
import { freezeBlueprint, freezePackages } from './freeze.ts';
import { validateBlueprint } from './schema.ts';

const RESOLVED = new Map([
  ['openssh-server', '1:9.2p1-2+deb12u3'],
  ['curl', '7.88.1-10+deb12u8'],
  ['python3-minimal', '3.11.2-1+b1'],
  ['python3-apt', '2.6.0'],
  ['python3.11', '3.11.2-6'],
  ['libc6', '2.36-9+deb12u7'],
  ['vim-tiny', '2:9.0.1378-2'],
]);

describe('freezeBlueprint', () => {
  it('pins every package and module to the resolved version, sorted by name', () => {
    const bp = validateBlueprint({
      name: 'frozen',
      version: '0.1.0',
      packages: [
        { name: 'openssh-server', version: '*' },
        { name: 'curl', version: '>= 7.88' },
      ],
      modules: [{ name: 'vim-tiny' }],
      customizations: { hostname: 'h' },
    });
    const frozen = freezeBlueprint(bp, RESOLVED);
    assert.deepEqual(frozen.packages, [
      { name: 'curl', version: '7.88.1-10+deb12u8' },
      { name: 'openssh-server', version: '1:9.2p1-2+deb12u3' },
    ]);
    assert.deepEqual(frozen.modules, [{ name: 'vim-tiny', version: '2:9.0.1378-2' }]);
    assert.deepEqual(Object.keys(frozen), Object.keys(bp));
    assert.equal(frozen.customizations?.hostname, 'h');
    assert.deepEqual(bp.packages[0], { name: 'openssh-server', version: '*' }, 'the input is left alone');
    // A frozen blueprint is still a valid blueprint: exact versions are constraints too.
    assert.deepEqual(validateBlueprint(JSON.parse(JSON.stringify(frozen))), frozen);
  });

  it('expands name globs to every resolved package they match, once each', () => {
    const got = freezePackages(
      'b',
      [{ name: 'python3*' }, { name: 'python3-apt' }],
      Object.fromEntries(RESOLVED),
    );
    assert.deepEqual(got, [
      { name: 'python3-apt', version: '2.6.0' },
      { name: 'python3-minimal', version: '3.11.2-1+b1' },
      { name: 'python3.11', version: '3.11.2-6' },
    ]);
  });

  it('looks up an arch-qualified name by its package name', () => {
    assert.deepEqual(freezePackages('b', [{ name: 'libc6:amd64' }], RESOLVED), [
      { name: 'libc6:amd64', version: '2.36-9+deb12u7' },
    ]);
  });

  it('fails as composer does when a package is missing from the depsolve', () => {
    assert.throws(
      () => freezePackages('web', [{ name: 'nginx' }], RESOLVED),
      (e: unknown) =>
        e instanceof BlueprintError &&
        e.code === 'FORGE_ERR_BLUEPRINT_FREEZE' &&
        e.message === 'web: nginx missing from depsolve results',
    );
  });

  it('fails when the resolved version does not satisfy the constraint', () => {
    assert.throws(() => freezePackages('web', [{ name: 'curl', version: '<< 7.88' }], RESOLVED), {
      message: 'web: curl: the resolved version 7.88.1-10+deb12u8 does not satisfy the constraint "<< 7.88"',
    });
  });
});
