import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.mkdir', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('creates directories with their mode, parents on request', () => {
    const old = process.umask(0);
    try {
      main(
        root.args({
          paths: [
            { path: '/a', mode: 0o700 },
            { path: 'tree:///b/c/d', parents: true },
          ],
        }),
      );
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(join(root.tree, 'a')).mode & 0o777, 0o700);
    assert.ok(statSync(join(root.tree, 'b/c/d')).isDirectory());
  });

  it('fails on an existing directory unless exist_ok', () => {
    mkdirSync(join(root.tree, 'x'));
    assert.throws(() => main(root.args({ paths: [{ path: '/x' }] })), /exists already/);
    main(root.args({ paths: [{ path: '/x', exist_ok: true }] }));
  });

  it('stays inside the tree through absolute and relative symbolic links', () => {
    mkdirSync(join(root.tree, 'data'));
    symlinkSync('/data', join(root.tree, 'abs'));
    symlinkSync('../../../..', join(root.tree, 'up'));
    main(root.args({ paths: [{ path: '/abs/one' }, { path: '/up/two' }, { path: '/../../three' }] }));
    assert.ok(statSync(join(root.tree, 'data/one')).isDirectory());
    assert.ok(statSync(join(root.tree, 'two')).isDirectory());
    assert.ok(statSync(join(root.tree, 'three')).isDirectory());
    assert.equal(statSync(join(root.dir, 'two'), { throwIfNoEntry: false }), undefined);
  });
});
