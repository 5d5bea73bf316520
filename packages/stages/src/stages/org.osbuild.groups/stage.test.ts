import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { moduleSchema, Schema } from '@debian-forge/manifest';
import { metaJsonOf } from '../../shared/define.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import definition from './schema.ts';
import { main } from './stage.ts';

const skip =
  spawnSync('groupadd', ['--help']).error !== undefined
    ? 'groupadd is not installed (passwd)'
    : process.getuid?.() !== 0
      ? 'groupadd --root needs root (chroot)'
      : false;

const schema = new Schema(moduleSchema('Stage', definition.type, undefined, metaJsonOf(definition).schema_2));

/** `name → [gid, members]` of the tree's /etc/group. */
function groups(tree: string): Map<string, string> {
  const lines = readFileSync(join(tree, 'etc/group'), 'utf8').trim().split('\n');
  return new Map(lines.map((l) => l.split(':')).map((f) => [f[0] as string, f[2] as string]));
}

describe('org.osbuild.groups', () => {
  it("has OSBuild's schema: group names by pattern, gid a number", () => {
    const errors = (options: unknown) => schema.validate({ type: definition.type, options }).errors;
    assert.deepEqual(errors({ groups: { wheel: { gid: 10 }, 'svc-x.y_z': {} }, force: true }), []);
    assert.equal(errors({ groups: { 'bad name': {} } }).length, 1);
    assert.equal(errors({ groups: { '-x': {} } }).length, 1);
    assert.equal(errors({ groups: { wheel: { gid: '10' } } }).length, 1);
  });
});

describe('org.osbuild.groups on a tree', { skip }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    mkdirSync(join(root.tree, 'etc'));
    writeFileSync(join(root.tree, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(join(root.tree, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
    writeFileSync(join(root.tree, 'etc/group'), 'root:x:0:\nusers:x:100:\n');
    writeFileSync(join(root.tree, 'etc/gshadow'), 'root:*::\nusers:*::\n', { mode: 0o640 });
    writeFileSync(join(root.tree, 'etc/login.defs'), 'SYS_GID_MIN 100\nGID_MIN 2000\nGID_MAX 60000\n');
  });
  afterEach(() => root.cleanup());

  it('adds groups with the given GID or a free one, to group and gshadow', () => {
    main(root.args({ groups: { wheel: { gid: 1234 }, docker: {} } }));
    const g = groups(root.tree);
    assert.equal(g.get('wheel'), '1234');
    assert.equal(g.get('docker'), '2000', 'first free GID from the tree login.defs');
    assert.equal(g.get('users'), '100');
    assert.match(readFileSync(join(root.tree, 'etc/gshadow'), 'utf8'), /^wheel:!::$/m);
  });

  it('fails on a name or GID in use, unless force', () => {
    assert.throws(() => main(root.args({ groups: { users: {} } })), /groupadd .* failed/);
    assert.throws(() => main(root.args({ groups: { other: { gid: 100 } } })), /groupadd .* failed/);
    main(root.args({ groups: { users: {}, other: { gid: 100 } }, force: true }));
    const g = groups(root.tree);
    assert.equal(g.get('users'), '100');
    assert.ok(g.get('other') && g.get('other') !== '100');
  });
});
