import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const hasOstree = hasProgram('ostree');
const skip = !hasOstree && 'ostree is not installed (apt-get install ostree)';

describe('org.osbuild.ostree.init', { skip }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  const modeOf = (repo: string) => /^mode=(.*)$/m.exec(readFileSync(join(repo, 'config'), 'utf8'))?.[1];

  it('creates an archive repository at /repo by default', () => {
    main(root.args({}));
    assert.equal(modeOf(join(root.tree, 'repo')), 'archive-z2');
    assert.ok(existsSync(join(root.tree, 'repo/objects')));
    // ostree itself can open it.
    assert.equal(
      execFileSync('ostree', ['refs', `--repo=${join(root.tree, 'repo')}`], { encoding: 'utf8' }),
      '',
    );
  });

  it('creates a bare-user repository with its parents, again without harm', () => {
    main(root.args({ mode: 'bare-user', path: '/srv/ostree/repo' }));
    main(root.args({ mode: 'bare-user', path: '/srv/ostree/repo' }));
    assert.equal(modeOf(join(root.tree, 'srv/ostree/repo')), 'bare-user');
  });

  it('stays inside the tree', () => {
    main(root.args({ mode: 'bare', path: '/../../escaped' }));
    assert.equal(modeOf(join(root.tree, 'escaped')), 'bare');
    assert.equal(existsSync(join(root.dir, 'escaped')), false);
  });
});
