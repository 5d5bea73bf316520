import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bumpPatch, compareSemver, isSemver, parseSemver, semverProblem, versionOnPush } from './semver.ts';

describe('semver', () => {
  it('accepts MAJOR.MINOR.PATCH with pre-release and build parts', () => {
    for (const v of [
      '0.0.0',
      '1.2.3',
      '10.20.30',
      '1.0.0-rc.1',
      '1.0.0-alpha-1',
      '1.0.0+build.5',
      '1.0.0-b+m',
    ]) {
      assert.equal(semverProblem(v), undefined, v);
    }
    assert.deepEqual(parseSemver('1.2.3-rc.1+abc'), {
      major: 1,
      minor: 2,
      patch: 3,
      prerelease: 'rc.1',
      build: 'abc',
    });
  });

  it('rejects what is not semver, saying why', () => {
    assert.equal(semverProblem('1.0'), '"1.0" is not in dotted-tri format (MAJOR.MINOR.PATCH)');
    assert.equal(semverProblem('1.2.3.4'), '"1.2.3.4" is not in dotted-tri format (MAJOR.MINOR.PATCH)');
    assert.equal(semverProblem('v1.2.3'), '"v1" in "v1.2.3" is not a decimal number');
    assert.equal(semverProblem('1.2.x'), '"x" in "1.2.x" is not a decimal number');
    assert.equal(semverProblem('1.2.3-'), '"" in "1.2.3-" is not a valid pre-release');
    assert.equal(semverProblem('1.2.3-a..b'), '"a..b" in "1.2.3-a..b" is not a valid pre-release');
    assert.equal(semverProblem('1.2.3+'), '"" in "1.2.3+" is not valid build metadata');
    assert.equal(isSemver(''), false);
    assert.throws(() => parseSemver('one'), /dotted-tri/);
  });

  it('orders by precedence: numbers, then pre-releases below releases', () => {
    assert.equal(compareSemver('1.0.0', '1.0.0'), 0);
    assert.equal(compareSemver('1.0.0', '1.0.1'), -1);
    assert.equal(compareSemver('1.10.0', '1.9.0'), 1);
    assert.equal(compareSemver('2.0.0', '10.0.0'), -1);
    assert.equal(compareSemver('1.0.0-rc.1', '1.0.0'), -1);
    assert.equal(compareSemver('1.0.0-alpha', '1.0.0-alpha.1'), -1);
    assert.equal(compareSemver('1.0.0-alpha.1', '1.0.0-alpha.beta'), -1);
    assert.equal(compareSemver('1.0.0-beta.11', '1.0.0-beta.2'), 1);
    assert.equal(compareSemver('1.0.0+a', '1.0.0+b'), 0);
  });

  it('bumps the patch number and drops pre-release and build parts', () => {
    assert.equal(bumpPatch('0.0.1'), '0.0.2');
    assert.equal(bumpPatch('1.9.9'), '1.9.10');
    assert.equal(bumpPatch('1.0.0-rc1'), '1.0.1');
    assert.equal(bumpPatch('1.0.0+meta'), '1.0.1');
    assert.equal(bumpPatch('01.02.03'), '1.2.4');
  });
});

describe('versionOnPush', () => {
  it('keeps the version of a new blueprint, 0.0.0 when it has none', () => {
    assert.equal(versionOnPush('1.2.3', undefined), '1.2.3');
    assert.equal(versionOnPush(undefined, undefined), '0.0.0');
    assert.equal(versionOnPush('', undefined), '0.0.0');
  });

  it('bumps the stored patch when the pushed version is the same, missing or empty', () => {
    assert.equal(versionOnPush('0.0.1', '0.0.1'), '0.0.2');
    assert.equal(versionOnPush(undefined, '0.0.5'), '0.0.6');
    assert.equal(versionOnPush('', '1.4.9'), '1.4.10');
  });

  it('stores any other version as it is, higher or lower', () => {
    assert.equal(versionOnPush('2.0.0', '0.0.1'), '2.0.0');
    assert.equal(versionOnPush('0.0.1', '2.0.0'), '0.0.1');
    assert.equal(versionOnPush('0.0.9', '0.0.10'), '0.0.9');
  });

  it('cannot bump a stored version that is not semver', () => {
    assert.equal(versionOnPush('bad', 'bad'), 'bad');
    assert.equal(versionOnPush(undefined, 'bad'), '0.0.0');
  });
});
