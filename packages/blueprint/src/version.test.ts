import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bumpPatch,
  compareDebianVersions,
  compareSemver,
  constraintProblem,
  formatConstraint,
  isSemver,
  matches,
  parseConstraint,
  parseDebianVersion,
  parseSemver,
  semverProblem,
  versionOnPush,
} from './version.ts';

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

describe('Debian versions', () => {
  it('splits epoch, upstream version and revision at the first colon and the last hyphen', () => {
    assert.deepEqual(parseDebianVersion('2:9.2p1-2+deb12u3'), {
      epoch: 2,
      upstream: '9.2p1',
      revision: '2+deb12u3',
    });
    assert.deepEqual(parseDebianVersion('1.0'), { epoch: 0, upstream: '1.0', revision: '' });
    assert.deepEqual(parseDebianVersion('1.2-3-4'), { epoch: 0, upstream: '1.2-3', revision: '4' });
    assert.deepEqual(parseDebianVersion('0:5.36.0-7+deb12u1'), {
      epoch: 0,
      upstream: '5.36.0',
      revision: '7+deb12u1',
    });
  });

  it('rejects versions against Debian policy', () => {
    assert.throws(
      () => parseDebianVersion('a1.0'),
      /the upstream version "a1.0" does not start with a digit/,
    );
    assert.throws(() => parseDebianVersion('x:1.0'), /the epoch "x" is not an unsigned integer/);
    assert.throws(() => parseDebianVersion('1.0-'), /the Debian revision after the last "-" is empty/);
    assert.throws(() => parseDebianVersion('1.0-1_2'), /the Debian revision "1_2" contains "_"/);
    assert.throws(() => parseDebianVersion('1.0_1'), /the upstream version "1.0_1" contains "_"/);
    assert.throws(() => parseDebianVersion('1:'), /the upstream version is empty/);
    assert.throws(() => parseDebianVersion('1 .0'), /white space/);
  });

  it('orders as dpkg does', () => {
    const cases: [string, string, number][] = [
      ['1.0', '1.0', 0],
      ['1.0', '0:1.0', 0],
      ['1.0', '1.0-0', 0],
      ['1.0-1', '1.0-2', -1],
      ['1.0~rc1', '1.0', -1],
      ['1.0~~', '1.0~', -1],
      ['1.0~', '1.0', -1],
      ['1.0', '1.0a', -1],
      ['1.0a', '1.0+', -1],
      ['1.0+', '1.0.', -1],
      ['1.2', '1.10', -1],
      ['1.002', '1.2', 0],
      ['1:0.1', '2.0', 1],
      ['2:9.2p1-2+deb12u3', '2:9.2p1-2+deb12u2', 1],
      ['2:9.2p1-2+deb12u3', '1:9.9-1', 1],
      ['7.88.1-10+deb12u8', '7.88.1-10+deb12u12', -1],
      ['1.22.1-9', '1.22.1-9+deb12u1', -1],
      ['1.0-1', '1.0.1-1', -1],
    ];
    for (const [a, b, want] of cases) {
      assert.equal(compareDebianVersions(a, b), want, `${a} vs ${b}`);
      assert.equal(compareDebianVersions(b, a), want === 0 ? 0 : -want, `${b} vs ${a}`);
    }
  });
});

describe('version constraints', () => {
  it('parses any, exact, glob and operator forms', () => {
    assert.deepEqual(parseConstraint(undefined), { op: '*', version: '' });
    assert.deepEqual(parseConstraint(''), { op: '*', version: '' });
    assert.deepEqual(parseConstraint('*'), { op: '*', version: '' });
    assert.deepEqual(parseConstraint('2:9.2p1-2+deb12u3'), { op: '=', version: '2:9.2p1-2+deb12u3' });
    assert.deepEqual(parseConstraint('1.2.*'), { op: 'glob', version: '1.2.*' });
    assert.deepEqual(parseConstraint('>= 1.2'), { op: '>=', version: '1.2' });
    assert.deepEqual(parseConstraint('<<3'), { op: '<<', version: '3' });
    assert.deepEqual(parseConstraint('= 1.0-1'), { op: '=', version: '1.0-1' });
    assert.deepEqual(parseConstraint('>> 1:2'), { op: '>>', version: '1:2' });
    assert.deepEqual(parseConstraint('<= 2'), { op: '<=', version: '2' });
    assert.equal(formatConstraint(parseConstraint('>=1.2')), '>= 1.2');
    assert.equal(formatConstraint(parseConstraint('1.2*')), '1.2*');
  });

  it('says what is wrong with a bad constraint', () => {
    assert.equal(
      constraintProblem('> 1.0'),
      '">" is ambiguous in Debian: write ">>" (strictly) or ">=" (or equal)',
    );
    assert.equal(
      constraintProblem('< 1.0'),
      '"<" is ambiguous in Debian: write "<<" (strictly) or "<=" (or equal)',
    );
    assert.equal(constraintProblem('>='), '">=" needs a version after it');
    assert.equal(constraintProblem('>= 1.*'), 'a version after ">=" cannot contain a glob ("*" or "?")');
    assert.equal(
      constraintProblem('>= latest'),
      '"latest" is not a Debian version: the upstream version "latest" does not start with a digit',
    );
    assert.equal(
      constraintProblem('1.0_2'),
      '"1.0_2" is not a Debian version: the upstream version "1.0_2" contains "_" (allowed: letters, digits, ".", "+", "-", "~")',
    );
    assert.equal(constraintProblem('1.2/*'), 'the glob "1.2/*" contains "/"');
    assert.equal(constraintProblem('x*'), 'the glob "x*" cannot match any Debian version');
    assert.equal(constraintProblem('~= 1'), '"~= 1" is not a Debian version: it contains white space');
    assert.equal(constraintProblem('1.0'), undefined);
  });

  it('matches versions with Debian ordering', () => {
    assert.equal(matches('*', '1.0-1'), true);
    assert.equal(matches(undefined, '1.0-1'), true);
    assert.equal(matches('1.0-1', '1.0-1'), true);
    assert.equal(matches('1.0-1', '0:1.0-1'), true);
    assert.equal(matches('1.0-1', '1.0-2'), false);
    assert.equal(matches('>= 1.2', '1.10'), true);
    assert.equal(matches('>= 1.2', '1.2~rc1'), false);
    assert.equal(matches('>> 1.2', '1.2'), false);
    assert.equal(matches('>> 1.2', '1.2-1'), true);
    assert.equal(matches('<< 3', '2.99'), true);
    assert.equal(matches('<< 3', '3'), false);
    assert.equal(matches('<= 3', '3'), true);
    assert.equal(matches('<= 3', '1:1'), false);
    assert.equal(matches('= 1.0-1', '1.0-1'), true);
    assert.equal(matches('1.2.*', '1.2.3-1'), true);
    assert.equal(matches('1.2.*', '1.20-1'), false);
    assert.equal(matches('9.2*', '1:9.2p1-2'), true);
    assert.equal(matches('1:9.2*', '9.2p1-2'), false);
    assert.equal(matches('7.88.?-10*', '7.88.1-10+deb12u8'), true);
    assert.equal(matches(parseConstraint('>= 2'), '2.0'), true);
    assert.throws(() => matches('>= 1', 'not-a-version'), /invalid Debian version "not-a-version"/);
  });
});
