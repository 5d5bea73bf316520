import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const isRoot = process.getuid?.() === 0;

describe('org.osbuild.chown', { skip: isRoot ? false : 'changing owners needs root' }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    mkdirSync(join(root.tree, 'etc'));
    writeFileSync(
      join(root.tree, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nweb:x:1234:1234::/srv:/bin/sh\n',
    );
    writeFileSync(join(root.tree, 'etc/group'), 'root:x:0:\nweb:x:1234:\nlogs:x:4321:web\n');
  });
  afterEach(() => root.cleanup());

  const owner = (p: string) => {
    const st = lstatSync(join(root.tree, p));
    return [st.uid, st.gid];
  };

  it('looks names up in the tree, takes numbers as they are', () => {
    writeFileSync(join(root.tree, 'a'), '');
    writeFileSync(join(root.tree, 'b'), '');
    writeFileSync(join(root.tree, 'c'), '');
    main(
      root.args({
        items: { '/a': { user: 'web', group: 'logs' }, '/b': { user: 555 }, '/c': { group: '777' } },
      }),
    );
    assert.deepEqual(owner('a'), [1234, 4321]);
    assert.deepEqual(owner('b'), [555, 0]);
    assert.deepEqual(owner('c'), [0, 777]);
  });

  it('changes a directory recursively, links themselves included', () => {
    mkdirSync(join(root.tree, 'srv/www'), { recursive: true });
    writeFileSync(join(root.tree, 'srv/www/index.html'), '');
    writeFileSync(join(root.tree, 'target'), '');
    symlinkSync('/target', join(root.tree, 'srv/link'));
    main(root.args({ items: { '/srv': { user: '_apt', group: 'web', recursive: true } } }));
    for (const p of ['srv', 'srv/www', 'srv/www/index.html', 'srv/link']) {
      assert.deepEqual(owner(p), [42, 1234], p);
    }
    assert.deepEqual(owner('target'), [0, 0]);
  });

  it('follows a link to its target inside the tree', () => {
    const outside = join(root.dir, 'outside');
    writeFileSync(outside, '');
    mkdirSync(join(root.tree, root.dir), { recursive: true });
    writeFileSync(join(root.tree, outside), '');
    symlinkSync(outside, join(root.tree, 'link'));
    main(root.args({ items: { '/link': { user: 'web' } } }));
    assert.equal(statSync(join(root.tree, outside)).uid, 1234);
    assert.equal(statSync(outside).uid, 0);
  });

  it('fails on an unknown name or a missing path', () => {
    writeFileSync(join(root.tree, 'a'), '');
    assert.throws(() => main(root.args({ items: { '/a': { user: 'nobody' } } })), /unknown user 'nobody'/);
    assert.throws(() => main(root.args({ items: { '/nope': { user: 'web' } } })), /ENOENT/);
  });
});
