import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  compareDebianVersions,
  isValidDebianVersion,
  parseDebianVersion,
  satisfiesRelation,
} from './index.ts';

/** Pairs with the expected sign of compare(a, b); each is also checked against dpkg itself. */
const CASES: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0', '1.1', -1],
  ['1.2.3', '1.2.10', -1], // digits compare as numbers
  ['1.002', '1.2', 0], // leading zeros do not count
  ['1.0~rc1', '1.0', -1], // ~ sorts before the end of the string
  ['1.0~~', '1.0~~a', -1], // policy's own example: ~~ < ~~a < ~ < (empty) < a
  ['1.0~~a', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0', '1.0a', -1],
  ['1.0a', '1.0+', -1], // letters sort before non-letters
  ['1.0+', '1.0.', -1], // then by ASCII
  ['1.0a', '1.0.', -1],
  ['1:0.1', '2.0', 1], // the epoch wins
  ['0:1.0', '1.0', 0], // epoch 0 is no epoch
  ['2:1', '1:99', 1],
  ['1.0', '1.0-0', 0], // an absent revision compares as 0
  ['1.0-1', '1.0-2', -1],
  ['1.0-1', '1.0.1-1', -1],
  ['1.0-1~bpo12+1', '1.0-1', -1], // backports sort below the release
  ['1.0-1', '1.0-1+b1', -1], // binNMU above
  ['1.0-1+deb12u1', '1.0-1+b1', 1],
  ['2.36-9+deb12u14', '2.36-9+deb12u7', 1], // numbers inside the revision
  ['1:9.2p1-2+deb12u10', '1:9.2p1-2+deb12u9', 1],
  ['37~deb12u1', '37', -1],
  ['1.12345678901234567890', '1.12345678901234567889', 1], // no integer overflow
  ['1.0-a', '1.0-1', 1], // letter before digit in the revision: 'a' vs end-then-number
  ['3.0.11-1~deb12u2', '3.0.11-1', -1],
  ['1:2.38.1-5+deb12u3', '1:2.38.1-5+b1', 1],
  ['7.88.1-10+deb12u12', '7.88.1-10+deb12u5', 1],
  ['1.0-1-1', '1.0-1', 1], // hyphens in upstream when there is a revision
  ['a', 'b', -1], // not valid versions, but ordered all the same
  ['1.0.0', '1.0', 1],
  ['1.0~beta1~svn1245', '1.0~beta1', -1],
  ['1.2', '1.10', -1],
  ['2:9.2p1-2+deb12u3', '2:9.2p1-2+deb12u2', 1],
  ['2:9.2p1-2+deb12u3', '1:9.9-1', 1],
  ['1.22.1-9', '1.22.1-9+deb12u1', -1],
];

function dpkgCompare(a: string, b: string): -1 | 0 | 1 {
  const lt = spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;
  const eq = spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status === 0;
  return lt ? -1 : eq ? 0 : 1;
}

describe('compareDebianVersions', () => {
  for (const [a, b, want] of CASES) {
    it(`${a} ${want < 0 ? '<' : want > 0 ? '>' : '='} ${b}`, () => {
      assert.equal(Math.sign(compareDebianVersions(a, b)), want);
      assert.equal(Math.sign(compareDebianVersions(b, a)), -want || 0, 'antisymmetric');
    });
  }

  it('agrees with dpkg --compare-versions on every case', () => {
    const valid = CASES.filter(([a, b]) => isValidDebianVersion(a) && isValidDebianVersion(b));
    assert.ok(valid.length > 25);
    for (const [a, b, want] of valid) assert.equal(dpkgCompare(a, b), want, `${a} vs ${b}`);
  });

  it('sorts a shuffled list into the same order as dpkg', () => {
    const list = ['1.0', '1.0~rc1', '1:0.5', '1.0-1', '1.0+b1', '0.9', '1.0~~', '1.0a', '1.0-1~bpo1', '2'];
    const ours = [...list].sort(compareDebianVersions);
    const theirs = [...list].sort((a, b) => dpkgCompare(a, b));
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ours.slice(0, 3), ['0.9', '1.0~~', '1.0~rc1']);
    assert.equal(ours.at(-1), '1:0.5');
  });
});

describe('parseDebianVersion and relations', () => {
  it('splits epoch, upstream and revision at the last hyphen', () => {
    assert.deepEqual(parseDebianVersion('1:9.2p1-2+deb12u5'), {
      epoch: 1,
      upstream: '9.2p1',
      revision: '2+deb12u5',
    });
    assert.deepEqual(parseDebianVersion('1.0-1-2'), { epoch: 0, upstream: '1.0-1', revision: '2' });
    assert.deepEqual(parseDebianVersion('5.2.15'), { epoch: 0, upstream: '5.2.15', revision: '' });
    assert.deepEqual(parseDebianVersion('0:5.36.0-7+deb12u1'), {
      epoch: 0,
      upstream: '5.36.0',
      revision: '7+deb12u1',
    });
  });

  it('validates versions', () => {
    for (const v of ['1.0', '1:2.3-4', '2.36-9+deb12u14', '1.0~rc1-1~bpo1', '0'])
      assert.ok(isValidDebianVersion(v), v);
    for (const v of ['', 'a1', '1.0-', '1:', ':1', '1.0 beta', 'x:1.0', '1:2:3'])
      assert.ok(!isValidDebianVersion(v), v);
  });

  it('applies Debian relations', () => {
    assert.ok(satisfiesRelation('1.2-1', '>=', '1.2'));
    assert.ok(satisfiesRelation('1.2-1', '>>', '1.2'));
    assert.ok(!satisfiesRelation('1.2', '>>', '1.2-0'));
    assert.ok(satisfiesRelation('1.2~rc1', '<<', '1.2'));
    assert.ok(satisfiesRelation('1:1.0', '>=', '9.9'));
    assert.ok(satisfiesRelation('1.0', '=', '0:1.0'));
    assert.ok(satisfiesRelation('1.0', '<=', '1.0'));
  });
});
