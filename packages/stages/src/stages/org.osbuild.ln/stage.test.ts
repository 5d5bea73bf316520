import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.ln', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('creates symbolic links with the target as given', () => {
    mkdirSync(join(root.tree, 'etc'));
    main(
      root.args({
        paths: [
          { target: '../usr/lib/os-release', link_name: 'tree:///etc/os-release', symbolic: true },
          {
            target: '/run/systemd/resolve/stub-resolv.conf',
            link_name: 'tree:///etc/resolv.conf',
            symbolic: true,
          },
        ],
      }),
    );
    assert.equal(readlinkSync(join(root.tree, 'etc/os-release')), '../usr/lib/os-release');
    assert.equal(readlinkSync(join(root.tree, 'etc/resolv.conf')), '/run/systemd/resolve/stub-resolv.conf');
  });

  it('creates hard links to files of the same tree or mount', () => {
    const mnt = join(root.dir, 'mnt');
    mkdirSync(join(mnt, 'boot'), { recursive: true });
    writeFileSync(join(mnt, 'boot/vmlinuz-6.1'), 'kernel');
    writeFileSync(join(root.tree, 'data'), 'x');
    main(
      root.args(
        {
          paths: [
            { target: '/boot/vmlinuz-6.1', link_name: 'mount://boot/boot/vmlinuz' },
            { target: 'data', link_name: 'tree:///data2' },
            { target: 'mount://boot/boot/vmlinuz-6.1', link_name: 'tree:///vmlinuz' },
          ],
        },
        { mounts: { boot: { path: mnt } } },
      ),
    );
    const ino = statSync(join(mnt, 'boot/vmlinuz-6.1')).ino;
    assert.equal(statSync(join(mnt, 'boot/vmlinuz')).ino, ino);
    assert.ok(!lstatSync(join(mnt, 'boot/vmlinuz')).isSymbolicLink());
    assert.equal(statSync(join(root.tree, 'data2')).ino, statSync(join(root.tree, 'data')).ino);
    assert.equal(statSync(join(root.tree, 'vmlinuz')).ino, ino);
  });

  it('keeps links and their hard-link targets inside the tree', () => {
    const outside = join(root.dir, 'outside');
    writeFileSync(outside, 'secret');
    mkdirSync(join(root.tree, 'sub'));
    symlinkSync(root.dir, join(root.tree, 'escape'));
    mkdirSync(join(root.tree, root.dir), { recursive: true });
    writeFileSync(join(root.tree, outside), 'inside');
    main(
      root.args({
        paths: [
          { target: '../../../outside', link_name: 'tree:///escape/new-link', symbolic: true },
          { target: outside, link_name: 'tree:///../../hard' },
        ],
      }),
    );
    assert.equal(existsSync(join(root.dir, 'new-link')), false);
    assert.ok(lstatSync(join(root.tree, root.dir, 'new-link')).isSymbolicLink());
    assert.equal(statSync(join(root.tree, 'hard')).ino, statSync(join(root.tree, outside)).ino);
    assert.notEqual(statSync(join(root.tree, 'hard')).ino, statSync(outside).ino);
  });

  it('fails when the link exists already', () => {
    writeFileSync(join(root.tree, 'a'), '');
    assert.throws(
      () => main(root.args({ paths: [{ target: 'b', link_name: 'tree:///a', symbolic: true }] })),
      /EEXIST/,
    );
  });
});
