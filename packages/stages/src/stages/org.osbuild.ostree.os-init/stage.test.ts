import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../api/testing.ts';
import { main } from '../org.osbuild.ostree.init-fs/stage.ts';
import { main as osInit } from './stage.ts';

const hasOstree = (() => {
  try {
    execFileSync('ostree', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('org.osbuild.ostree.os-init', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('creates a stateroot in a system root, and refuses a bad name', () => {
    main(root.args({}));
    // --modern: only /boot and /ostree; the deployments bring the rest.
    assert.deepEqual(readdirSync(root.tree).sort(), ['boot', 'ostree']);
    assert.match(readFileSync(join(root.tree, 'ostree/repo/config'), 'utf8'), /mode=bare$/m);
    osInit(root.args({ osname: 'debian' }));
    assert.deepEqual(readdirSync(join(root.tree, 'ostree/deploy')), ['debian']);
    assert.ok(readdirSync(join(root.tree, 'ostree/deploy/debian')).includes('var'));
    assert.throws(() => osInit(root.args({ osname: '../x' })), /invalid osname/);
  });
});
