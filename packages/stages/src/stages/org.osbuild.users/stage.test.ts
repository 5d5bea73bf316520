import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { moduleSchema, Schema } from '@debian-forge/manifest';
import { metaJsonOf } from '../../shared/define.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import definition from './schema.ts';
import { main } from './stage.ts';

const skip =
  spawnSync('useradd', ['--help']).error !== undefined
    ? 'useradd is not installed (passwd)'
    : process.getuid?.() !== 0
      ? 'useradd --root needs root (chroot, chown)'
      : false;

const schema = new Schema(moduleSchema('Stage', definition.type, undefined, metaJsonOf(definition).schema_2));
const HASH = '$6$xyz$LvqWIMHrEHZ1nl5sO3P0nA8fsPcm0Jx4Pzb5hB2ABDxVGzGK5uvMakZdGfrrk1iT0i2jIFmXfg8Pu0W1qVDqI1';
const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp0UfShb8Oy0a6N1Kcl8L6Xk0mS9VE2Bg1ck1zWuA8s alice@one';
const KEY2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB6lS2yZy3l7L7OqY2yP5b2bSxoVqgXdfZBfzXM3S0uG alice@two';

function fields(tree: string, file: string, name: string): string[] | undefined {
  return readFileSync(join(tree, 'etc', file), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === name);
}

describe('org.osbuild.users', () => {
  it("has OSBuild's schema: user names by pattern, typed properties", () => {
    const errors = (options: unknown) => schema.validate({ type: definition.type, options }).errors;
    assert.deepEqual(
      errors({ users: { alice: { uid: 1000, groups: ['wheel'], keys: [KEY1], expiredate: 1 } } }),
      [],
    );
    assert.equal(errors({ users: { 'a b': {} } }).length, 1);
    assert.equal(errors({ users: { alice: { expiredate: 1.5 } } }).length, 1);
    assert.equal(errors({ users: { alice: { keys: KEY1 } } }).length, 1);
    assert.equal(errors({ user: {} }).length, 1);
  });
});

describe('org.osbuild.users on a tree', { skip }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    const etc = join(root.tree, 'etc');
    mkdirSync(join(etc, 'skel/.config'), { recursive: true });
    mkdirSync(join(root.tree, 'home'));
    writeFileSync(
      join(etc, 'passwd'),
      'root:x:0:0:root:/root:/bin/bash\nbob:x:1500:1500:Bob:/home/bob:/bin/sh\n',
    );
    writeFileSync(join(etc, 'shadow'), 'root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n', {
      mode: 0o640,
    });
    writeFileSync(join(etc, 'group'), 'root:x:0:\nwheel:x:10:\nusers:x:100:\nbob:x:1500:\n');
    writeFileSync(join(etc, 'gshadow'), 'root:*::\nwheel:*::\nusers:*::\nbob:!::\n', { mode: 0o640 });
    // Debian's login.defs sets no CREATE_HOME
    writeFileSync(
      join(etc, 'login.defs'),
      'UID_MIN 1000\nGID_MIN 1000\nUSERGROUPS_ENAB yes\nUMASK 022\nHOME_MODE 0750\n',
    );
    writeFileSync(join(etc, 'skel/.bashrc'), '# bashrc\n');
    writeFileSync(join(etc, 'skel/.config/app.conf'), 'x=1\n');
  });
  afterEach(() => root.cleanup());

  it('adds a user with every property, its home from skel and its SSH keys', () => {
    main(
      root.args({
        users: {
          alice: {
            uid: 1234,
            groups: ['wheel', 'users'],
            description: 'Alice Liddell',
            home: '/home/alice',
            shell: '/bin/zsh',
            password: HASH,
            key: KEY2,
            keys: [KEY1],
            expiredate: 20000,
            force_password_reset: true,
          },
        },
      }),
    );
    const pw = fields(root.tree, 'passwd', 'alice');
    assert.deepEqual(pw, ['alice', 'x', '1234', pw?.[3], 'Alice Liddell', '/home/alice', '/bin/zsh']);
    assert.equal(fields(root.tree, 'group', 'alice')?.[2], pw?.[3], 'a user group of its own');
    const sh = fields(root.tree, 'shadow', 'alice');
    assert.equal(sh?.[1], HASH);
    assert.equal(sh?.[2], '0', 'password expired: must change at first login');
    assert.equal(sh?.[7], '20000');
    assert.match(fields(root.tree, 'group', 'wheel')?.[3] ?? '', /^alice$/);
    assert.match(fields(root.tree, 'group', 'users')?.[3] ?? '', /^alice$/);

    const home = join(root.tree, 'home/alice');
    assert.equal(statSync(home).uid, 1234);
    assert.equal(readFileSync(join(home, '.config/app.conf'), 'utf8'), 'x=1\n');
    assert.equal(statSync(join(home, '.config/app.conf')).uid, 1234);
    const ssh = statSync(join(home, '.ssh'));
    assert.deepEqual([ssh.mode & 0o777, ssh.uid, ssh.gid], [0o700, 1234, Number(pw?.[3])]);
    const ak = join(home, '.ssh/authorized_keys');
    assert.equal(readFileSync(ak, 'utf8'), `${KEY1}\n${KEY2}\n`);
    const akStat = statSync(ak);
    assert.deepEqual([akStat.mode & 0o777, akStat.uid], [0o600, 1234]);
  });

  it('creates a home when home is left out, and none when it is empty', () => {
    main(root.args({ users: { carol: {}, dave: { home: '' } } }));
    assert.ok(statSync(join(root.tree, 'home/carol')).isDirectory());
    assert.ok(existsSync(join(root.tree, 'home/carol/.bashrc')));
    assert.equal(fields(root.tree, 'passwd', 'dave')?.[5], '/home/dave');
    assert.ok(!existsSync(join(root.tree, 'home/dave')));
  });

  it('changes an existing user, creating its missing home, and appends keys', () => {
    main(
      root.args({
        users: { bob: { description: 'Robert', shell: '/bin/bash', groups: ['wheel'], keys: [KEY1] } },
      }),
    );
    assert.deepEqual(fields(root.tree, 'passwd', 'bob'), [
      'bob',
      'x',
      '1500',
      '1500',
      'Robert',
      '/home/bob',
      '/bin/bash',
    ]);
    assert.equal(fields(root.tree, 'group', 'wheel')?.[3], 'bob');
    const home = statSync(join(root.tree, 'home/bob'));
    assert.deepEqual([home.mode & 0o777, home.uid, home.gid], [0o750, 1500, 1500]);
    assert.equal(statSync(join(root.tree, 'home/bob/.bashrc')).uid, 1500);
    main(root.args({ users: { bob: { uid: 1500, key: KEY2 } } }));
    assert.equal(
      readFileSync(join(root.tree, 'home/bob/.ssh/authorized_keys'), 'utf8'),
      `${KEY1}\n${KEY2}\n`,
    );
  });

  it('refuses to change the UID of an existing user', () => {
    assert.throws(() => main(root.args({ users: { bob: { uid: 1600 } } })), /cannot change the UID/);
  });

  it('fails when useradd fails (unknown group)', () => {
    assert.throws(
      () => main(root.args({ users: { erin: { groups: ['nosuchgroup'] } } })),
      /useradd .* failed/,
    );
  });

  it('keeps SSH keys inside the tree when the home is a link out of it', () => {
    writeFileSync(
      join(root.tree, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/bash\nmal:x:1700:1700::/home/mal:/bin/sh\n',
    );
    symlinkSync('../../../../../../../..', join(root.tree, 'home/mal'));
    main(root.args({ users: { mal: { key: KEY1 } } }));
    assert.equal(readFileSync(join(root.tree, '.ssh/authorized_keys'), 'utf8'), `${KEY1}\n`);
    assert.ok(!existsSync(join(root.dir, '.ssh')));
  });
});
