import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareDebianVersions,
  constraintProblem,
  formatConstraint,
  matches,
  parseConstraint,
  parseDebianVersion,
} from './package-versions.ts';

describe('Debian versions', () => {
  it('splits a valid version (as @debian-forge/debian-version does)', () => {
    assert.deepEqual(parseDebianVersion('1.2-3-4'), { epoch: 0, upstream: '1.2-3', revision: '4' });
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

  it('orders only valid versions (the ordering itself is tested in @debian-forge/debian-version)', () => {
    assert.equal(compareDebianVersions('2:9.2p1-2+deb12u3', '1:9.9-1'), 1);
    assert.equal(compareDebianVersions('1.0', '0:1.0'), 0);
    assert.throws(() => compareDebianVersions('1.0', 'a1.0'), /invalid Debian version "a1.0"/);
    assert.throws(() => compareDebianVersions('1.0-', '1.0'), /invalid Debian version "1.0-"/);
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
