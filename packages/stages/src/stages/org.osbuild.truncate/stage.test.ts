import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.truncate', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('creates a sparse file of the given size', () => {
    main(root.args({ filename: '/disk.img', size: '1G' }));
    const st = statSync(join(root.tree, 'disk.img'));
    assert.equal(st.size, 1024 ** 3);
    assert.ok(st.blocks * 512 < 1024 * 1024, `expected a sparse file, ${st.blocks} blocks used`);
  });

  it('grows relatively and shrinks, keeping the data before the end', () => {
    writeFileSync(join(root.tree, 'f'), 'abcdef');
    main(root.args({ filename: 'f', size: '+2K' }));
    assert.equal(statSync(join(root.tree, 'f')).size, 6 + 2048);
    main(root.args({ filename: 'f', size: '3' }));
    assert.equal(readFileSync(join(root.tree, 'f'), 'utf8'), 'abc');
  });

  it('stays in the tree and fails on a bad size', () => {
    symlinkSync('/../../escaped', join(root.tree, 'link'));
    main(root.args({ filename: '/link', size: '10' }));
    assert.equal(statSync(join(root.tree, 'escaped')).size, 10);
    assert.equal(existsSync(join(root.dir, 'escaped')), false);
    assert.throws(() => main(root.args({ filename: '/g', size: 'lots' })), /truncate .* failed/);
  });
});
