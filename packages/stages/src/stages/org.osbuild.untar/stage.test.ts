import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { InputArgument } from '../../shared/arguments.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const isRoot = process.getuid?.() === 0;

describe('org.osbuild.untar', () => {
  let root: TestRoot;
  let src: string;
  beforeEach(() => {
    root = testRoot();
    src = join(root.dir, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/motd'), 'hello\n', { mode: 0o640 });
    execFileSync('ln', ['-s', 'motd', join(src, 'etc/motd.link')]);
  });
  afterEach(() => root.cleanup());

  /** An input holding `tar -c` of `src` (extra tar arguments first), as `name`. */
  function archive(name: string, ...extra: string[]): { inputs: Record<string, InputArgument> } {
    const input = root.input('file', { files: { [name]: {} } });
    execFileSync('tar', [...extra, '-cf', join(input.path, name), '-C', src, 'etc']);
    return { inputs: { file: input } };
  }

  it('unpacks a compressed archive under prefix', () => {
    mkdirSync(join(root.tree, 'opt/app'), { recursive: true });
    main(root.args({ prefix: '/opt/app' }, archive('sha256:01', '--gzip')));
    assert.equal(readFileSync(join(root.tree, 'opt/app/etc/motd'), 'utf8'), 'hello\n');
    assert.equal(lstatSync(join(root.tree, 'opt/app/etc/motd')).mode & 0o777, 0o640);
    assert.equal(readlinkSync(join(root.tree, 'opt/app/etc/motd.link')), 'motd');
  });

  it('restores owners by number', { skip: !isRoot && 'needs root' }, () => {
    chownSync(join(src, 'etc/motd'), 4242, 4343);
    // Names the host knows, with numbers that differ from the archive's: numbers must win.
    main(root.args({}, archive('sha256:02', '--owner=root:4242', '--group=root:4343')));
    const st = lstatSync(join(root.tree, 'etc/motd'));
    assert.deepEqual([st.uid, st.gid], [4242, 4343]);
  });

  it('stays inside the tree', () => {
    main(root.args({ prefix: '/../..' }, archive('sha256:03', '--xz')));
    assert.ok(existsSync(join(root.tree, 'etc/motd')));
    assert.throws(
      () => main(root.args({ prefix: '/missing' }, archive('sha256:04'))),
      /no such directory in the tree/,
    );
    const evil = archive('sha256:05', '--transform=s,^,../,', '-P');
    assert.throws(() => main(root.args({}, evil)), /tar .* failed/);
    assert.equal(existsSync(join(root.dir, 'etc')), false);
  });
});
