import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.copy', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('copies a file from an input, keeping its mode and times', () => {
    const input = root.input('files');
    writeFileSync(join(input.path, 'sha256:aa'), 'payload\n', { mode: 0o640 });
    utimesSync(join(input.path, 'sha256:aa'), 1_000_000, 1_000_000);
    mkdirSync(join(root.tree, 'etc'));
    main(
      root.args(
        { paths: [{ from: 'input://files/sha256:aa', to: 'tree:///etc/payload' }] },
        { inputs: { files: input } },
      ),
    );
    const st = statSync(join(root.tree, 'etc/payload'));
    assert.equal(readFileSync(join(root.tree, 'etc/payload'), 'utf8'), 'payload\n');
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(st.mtimeMs, 1_000_000_000);
  });

  it('copies a directory into an existing one, or only its contents with a trailing slash', () => {
    const input = root.input('tree');
    mkdirSync(join(input.path, 'usr/share/doc'), { recursive: true });
    writeFileSync(join(input.path, 'usr/share/doc/README'), 'read me');
    symlinkSync('doc/README', join(input.path, 'usr/share/link'));
    mkdirSync(join(root.tree, 'a'));
    mkdirSync(join(root.tree, 'b'));
    main(
      root.args(
        {
          paths: [
            { from: 'input://tree/usr', to: 'tree:///a' },
            { from: 'input://tree/usr/', to: 'tree:///b' },
            { from: 'input://tree/usr/share/', to: 'tree:///new' },
          ],
        },
        { inputs: { tree: input } },
      ),
    );
    assert.equal(readFileSync(join(root.tree, 'a/usr/share/doc/README'), 'utf8'), 'read me');
    assert.equal(readlinkSync(join(root.tree, 'a/usr/share/link')), 'doc/README');
    assert.equal(readFileSync(join(root.tree, 'b/share/doc/README'), 'utf8'), 'read me');
    assert.equal(readFileSync(join(root.tree, 'new/doc/README'), 'utf8'), 'read me');
    assert.equal(existsSync(join(root.tree, 'b/usr')), false);
  });

  it('writes through a symbolic link to a file unless remove_destination', () => {
    mkdirSync(join(root.tree, 'data'));
    writeFileSync(join(root.tree, 'src'), 'new');
    writeFileSync(join(root.tree, 'data/real'), 'old');
    symlinkSync('/data/real', join(root.tree, 'abs'));
    symlinkSync('data/real', join(root.tree, 'rel'));
    main(root.args({ paths: [{ from: 'tree:///src', to: 'tree:///abs' }] }));
    // The absolute link is resolved inside the tree: the tree's /data/real gets the data.
    assert.equal(readFileSync(join(root.tree, 'data/real'), 'utf8'), 'new');
    assert.equal(existsSync('/data/real'), false);
    assert.ok(lstatSync(join(root.tree, 'abs')).isSymbolicLink());

    writeFileSync(join(root.tree, 'src'), 'newer');
    main(root.args({ paths: [{ from: 'tree:///src', to: 'tree:///rel', remove_destination: true }] }));
    assert.ok(lstatSync(join(root.tree, 'rel')).isFile());
    assert.equal(readFileSync(join(root.tree, 'rel'), 'utf8'), 'newer');
    assert.equal(readFileSync(join(root.tree, 'data/real'), 'utf8'), 'new');
  });

  it('copies into a mount, and never outside it', () => {
    const mnt = join(root.dir, 'mnt');
    mkdirSync(join(mnt, 'boot'), { recursive: true });
    writeFileSync(join(root.tree, 'kernel'), 'vmlinuz');
    const extra = { mounts: { root: { path: mnt } } };
    main(
      root.args(
        {
          paths: [
            { from: 'tree:///kernel', to: 'mount://root/boot/' },
            { from: 'tree:///../../kernel', to: 'mount://root/../../../vmlinuz' },
          ],
        },
        extra,
      ),
    );
    assert.equal(readFileSync(join(mnt, 'boot/kernel'), 'utf8'), 'vmlinuz');
    assert.equal(readFileSync(join(mnt, 'vmlinuz'), 'utf8'), 'vmlinuz');
    assert.equal(existsSync(join(root.dir, 'vmlinuz')), false);
  });

  it('refuses to write through a link in a merged directory that leads out of the tree', () => {
    const outside = join(root.dir, 'outside');
    writeFileSync(outside, 'keep');
    const input = root.input('tree');
    mkdirSync(join(input.path, 'etc'));
    writeFileSync(join(input.path, 'etc/conf'), 'evil');
    mkdirSync(join(root.tree, 'etc'));
    symlinkSync(outside, join(root.tree, 'etc/conf'));
    assert.throws(
      () =>
        main(root.args({ paths: [{ from: 'input://tree/', to: 'tree:///' }] }, { inputs: { tree: input } })),
      /refusing to write through the symbolic link \/etc\/conf/,
    );
    assert.equal(readFileSync(outside, 'utf8'), 'keep');
    // Removing destinations first replaces the link and leaves the outside file alone.
    main(
      root.args(
        { paths: [{ from: 'input://tree/', to: 'tree:///', remove_destination: true }] },
        { inputs: { tree: input } },
      ),
    );
    assert.equal(readFileSync(join(root.tree, 'etc/conf'), 'utf8'), 'evil');
    assert.equal(readFileSync(outside, 'utf8'), 'keep');
  });

  it('fails on a missing source', () => {
    assert.throws(
      () => main(root.args({ paths: [{ from: 'tree:///nope', to: 'tree:///x' }] })),
      /does not exist/,
    );
  });
});
