/**
 * Depsolve parts that need no network: request parsing and apt's explanations. Resolution itself is
 * tested against the real mirror in archive.test.ts, and offline against a local repository in
 * root.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aptExplanation, parsePackageRequest } from './depsolve.ts';
import { AptError, AptErrorCode } from './errors.ts';

function isAptError(code: AptErrorCode) {
  return (e: unknown) => e instanceof AptError && e.code === code;
}

describe('parsePackageRequest', () => {
  it('reads the forms blueprints use', () => {
    assert.deepEqual(parsePackageRequest('vim'), { kind: 'package', name: 'vim' });
    assert.deepEqual(parsePackageRequest('libc6:amd64'), { kind: 'package', name: 'libc6', arch: 'amd64' });
    assert.deepEqual(parsePackageRequest('curl=7.88.1-10+deb12u5'), {
      kind: 'package',
      name: 'curl',
      relation: '=',
      version: '7.88.1-10+deb12u5',
    });
    assert.deepEqual(parsePackageRequest('openssh-server (>= 1:9.0)'), {
      kind: 'package',
      name: 'openssh-server',
      relation: '>=',
      version: '1:9.0',
    });
    assert.deepEqual(parsePackageRequest('g++ << 13'), {
      kind: 'package',
      name: 'g++',
      relation: '<<',
      version: '13',
    });
    assert.deepEqual(parsePackageRequest('bash=5.2*'), {
      kind: 'package',
      name: 'bash',
      relation: '=',
      version: '5.2*',
    });
    assert.deepEqual(parsePackageRequest('linux-image-amd64/bookworm-backports'), {
      kind: 'package',
      name: 'linux-image-amd64',
      release: 'bookworm-backports',
    });
    assert.deepEqual(parsePackageRequest('?priority(required)'), {
      kind: 'pattern',
      pattern: '?priority(required)',
    });
  });

  it('rejects malformed requests with FORGE_ERR_APT_REQUEST', () => {
    for (const bad of [
      'Foo',
      'two words',
      'vim (>= )',
      'vim (> 1.0)',
      'vim = not a version',
      'vim (>= 1.0',
    ]) {
      assert.throws(() => parsePackageRequest(bad), isAptError(AptErrorCode.Request), bad);
    }
  });

  it("keeps apt's explanation and drops progress lines and the generic preamble", () => {
    const stdout = [
      'Reading package lists...',
      'Building dependency tree...',
      'Some packages could not be installed. This may mean that you have',
      'requested an impossible situation or if you are using the unstable',
      'distribution that some required packages have not yet been created',
      'or been moved out of Incoming.',
      'The following information may help to resolve the situation:',
      '',
      'The following packages have unmet dependencies:',
      ' a : Conflicts: b but 1 is to be installed',
      '',
    ].join('\n');
    assert.equal(
      aptExplanation(stdout, 'E: Unable to correct problems, you have held broken packages.\n'),
      'The following packages have unmet dependencies:\n a : Conflicts: b but 1 is to be installed\n\nE: Unable to correct problems, you have held broken packages.',
    );
  });
});
