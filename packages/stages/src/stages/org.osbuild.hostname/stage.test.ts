import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { hostsWithName, main } from './stage.ts';

describe('org.osbuild.hostname', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('writes /etc/hostname, creating /etc', () => {
    main(root.args({ hostname: 'forge-builder.example.org.' }));
    assert.equal(readFileSync(join(root.tree, 'etc/hostname'), 'utf8'), 'forge-builder.example.org\n');
    assert.equal(lstatSync(join(root.tree, 'etc/hostname')).mode & 0o777, 0o644);
  });

  it('replaces an existing file or link instead of writing through it', () => {
    const outside = join(root.dir, 'outside');
    writeFileSync(outside, 'keep\n');
    mkdirSync(join(root.tree, 'etc'));
    symlinkSync(outside, join(root.tree, 'etc/hostname'));
    main(root.args({ hostname: 'debian' }));
    assert.ok(lstatSync(join(root.tree, 'etc/hostname')).isFile());
    assert.equal(readFileSync(join(root.tree, 'etc/hostname'), 'utf8'), 'debian\n');
    assert.equal(readFileSync(outside, 'utf8'), 'keep\n');
  });

  it('rejects invalid names', () => {
    for (const bad of ['', 'a..b', '.lead', 'with space', 'x'.repeat(65), 'semi;colon']) {
      assert.throws(() => main(root.args({ hostname: bad })), /not a valid host name/, bad);
    }
  });

  it("puts the name on Debian's 127.0.1.1 line of an existing /etc/hosts", () => {
    const netbase = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n';
    mkdirSync(join(root.tree, 'etc'));
    writeFileSync(join(root.tree, 'etc/hosts'), netbase);
    main(root.args({ hostname: 'forge-server.example.org' }));
    assert.equal(
      readFileSync(join(root.tree, 'etc/hosts'), 'utf8'),
      '127.0.0.1\tlocalhost\n127.0.1.1\tforge-server.example.org forge-server\n::1\t\tlocalhost ip6-localhost ip6-loopback\n',
    );
    main(root.args({ hostname: 'other' }));
    assert.match(readFileSync(join(root.tree, 'etc/hosts'), 'utf8'), /^127\.0\.1\.1\tother$/m);
    assert.doesNotMatch(readFileSync(join(root.tree, 'etc/hosts'), 'utf8'), /forge-server/);
  });

  it('leaves /etc/hosts alone when it names the host, and makes none', () => {
    assert.equal(hostsWithName('10.0.0.5 box # ours\n', 'box'), '10.0.0.5 box # ours\n');
    assert.equal(hostsWithName('::1 localhost', 'box'), '::1 localhost\n127.0.1.1\tbox');
    main(root.args({ hostname: 'debian' }));
    assert.throws(() => lstatSync(join(root.tree, 'etc/hosts')), /ENOENT/);
  });
});
