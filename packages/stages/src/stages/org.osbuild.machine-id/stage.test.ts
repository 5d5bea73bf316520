import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.machine-id', () => {
  let root: TestRoot;
  let file: string;
  beforeEach(() => {
    root = testRoot();
    mkdirSync(join(root.tree, 'etc'));
    file = join(root.tree, 'etc/machine-id');
  });
  afterEach(() => root.cleanup());

  for (const existing of [true, false]) {
    it(`first-boot yes and no ${existing ? 'replace the file' : 'create it'}`, () => {
      if (existing) writeFileSync(file, '0123456789abcdef0123456789abcdef\n');
      main(root.args({ 'first-boot': 'yes' }));
      assert.equal(readFileSync(file, 'utf8'), 'uninitialized\n');
      main(root.args({ 'first-boot': 'no' }));
      assert.equal(readFileSync(file, 'utf8'), '');
    });
  }

  it('preserves an existing file and fails without one', () => {
    assert.throws(() => main(root.args({ 'first-boot': 'preserve' })), /cannot be preserved/);
    assert.equal(existsSync(file), false);
    writeFileSync(file, '\x01\x02\x03');
    main(root.args({ 'first-boot': 'preserve' }));
    assert.equal(readFileSync(file, 'latin1'), '\x01\x02\x03');
  });

  it('rejects an unknown mode', () => {
    assert.throws(
      () => main(root.args({ 'first-boot': 'maybe' as 'yes' })),
      /unknown first-boot mode 'maybe'/,
    );
  });
});
