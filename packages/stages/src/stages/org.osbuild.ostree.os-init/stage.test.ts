import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as initFs } from '../org.osbuild.ostree.init-fs/stage.ts';
import { main as osInit } from './stage.ts';

const hasOstree = hasProgram('ostree');

describe('org.osbuild.ostree.os-init', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('creates a stateroot in a system root, and refuses a bad name', () => {
    initFs(root.args({}));
    osInit(root.args({ osname: 'debian' }));
    assert.deepEqual(readdirSync(join(root.tree, 'ostree/deploy')), ['debian']);
    assert.ok(readdirSync(join(root.tree, 'ostree/deploy/debian')).includes('var'));
    assert.throws(() => osInit(root.args({ osname: '../x' })), /invalid osname/);
  });
});
