import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const UUID = '6e1f8a2c-3b4d-4e5f-8a9b-0c1d2e3f4a5b';

describe('org.osbuild.kernel-cmdline', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('writes root=UUID and the options without a line end', () => {
    main(root.args({ root_fs_uuid: UUID, kernel_opts: 'ro console=ttyS0,115200n8' }));
    assert.equal(
      readFileSync(join(root.tree, 'etc/kernel/cmdline'), 'utf8'),
      `root=UUID=${UUID} ro console=ttyS0,115200n8`,
    );
    main(root.args({ kernel_opts: 'quiet' }));
    assert.equal(readFileSync(join(root.tree, 'etc/kernel/cmdline'), 'utf8'), 'quiet');
    main(root.args({}));
    assert.equal(readFileSync(join(root.tree, 'etc/kernel/cmdline'), 'utf8'), '');
  });

  it('refuses a command line over the limit, by option or by architecture', () => {
    const long = 'x'.repeat(1500);
    assert.throws(
      () => main(root.args({ kernel_opts: long, kernel_cmdline_size: 1024 })),
      /1500 bytes, more than 1024/,
    );
    assert.throws(() => main(root.args({ kernel_opts: long }), 'riscv64'), /more than 1024/);
    main(root.args({ kernel_opts: long }), 'x64');
  });

  it('stays inside the tree when /etc is a symbolic link', () => {
    mkdirSync(join(root.tree, 'real-etc'));
    symlinkSync('/real-etc', join(root.tree, 'etc'));
    main(root.args({ kernel_opts: 'quiet' }));
    assert.equal(readFileSync(join(root.tree, 'real-etc/kernel/cmdline'), 'utf8'), 'quiet');
  });
});
