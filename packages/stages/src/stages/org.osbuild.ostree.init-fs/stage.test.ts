import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const hasOstree = hasProgram('ostree');

describe('org.osbuild.ostree.init-fs', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('makes an empty system root with a bare repository', () => {
    main(root.args({}));
    // --modern: only /boot and /ostree; the deployments bring the rest.
    assert.deepEqual(readdirSync(root.tree).sort(), ['boot', 'ostree']);
    assert.match(readFileSync(join(root.tree, 'ostree/repo/config'), 'utf8'), /mode=bare$/m);
    assert.deepEqual(readdirSync(join(root.tree, 'ostree/deploy')), []);
  });
});
