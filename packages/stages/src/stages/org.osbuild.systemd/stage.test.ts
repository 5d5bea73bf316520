import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';
import { expandSpecifiers, parseInstall } from './units.ts';

const LIB = 'usr/lib/systemd/system';
const ETC = 'etc/systemd/system';

const UNITS: Record<string, string> = {
  'ssh.service':
    '[Unit]\nDescription=ssh\n[Service]\nExecStart=/usr/sbin/sshd -D\n\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\nAlso=ssh.socket\n',
  'ssh.socket': '[Socket]\nListenStream=22\n[Install]\nWantedBy=sockets.target\n',
  'getty@.service':
    '[Service]\nExecStart=/sbin/agetty %I\n[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n',
  'serial-getty@.service': '[Service]\nExecStart=/sbin/agetty %I\n[Install]\nWantedBy=getty.target\n',
  'static.service': '[Service]\nExecStart=/bin/true\n',
  'real.service':
    '[Service]\nExecStart=/bin/true\n[Install]\n# a comment\nWantedBy=multi-user.target \\\n  graphical.target\nAlias=dbus-org.example.real.service\n',
  'sp@.service':
    '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=foo@%i.target\nAlias=x-%p@%i.service\nDefaultInstance=one\n',
  'foo@.target': '[Unit]\n',
  'up.service':
    '[Service]\nExecStart=/bin/true\n[Install]\nRequiredBy=graphical.target\nUpheldBy=multi-user.target\n',
  'old.service':
    '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=old-alias.service\n',
  'reset.service':
    '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=getty.target\nWantedBy=\nWantedBy=sockets.target\n',
  'multi-user.target': '[Unit]\n',
  'graphical.target': '[Unit]\n',
  'sockets.target': '[Unit]\n',
  'getty.target': '[Unit]\n',
  'timers.target': '[Unit]\n',
};

/** A tree with unit files, aliases and a few links of an earlier `systemctl enable`. */
function makeTree(tree: string): void {
  mkdirSync(join(tree, LIB), { recursive: true });
  for (const [name, text] of Object.entries(UNITS)) writeFileSync(join(tree, LIB, name), text);
  symlinkSync('graphical.target', join(tree, LIB, 'runlevel5.target'));
  symlinkSync('real.service', join(tree, LIB, 'dbus-org.example.real.service'));
  mkdirSync(join(tree, ETC, 'multi-user.target.wants'), { recursive: true });
  mkdirSync(join(tree, ETC, 'timers.target.wants'));
  symlinkSync(`/${LIB}/old.service`, join(tree, ETC, 'multi-user.target.wants/old.service'));
  symlinkSync(`/${LIB}/old.service`, join(tree, ETC, 'old-alias.service'));
  symlinkSync(`/${LIB}/sp@.service`, join(tree, ETC, 'multi-user.target.wants/keep.service'));
  writeFileSync(
    join(tree, ETC, 'local.service'),
    '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n',
  );
}

/** Every entry below /etc of a tree: directories as `dir/`, links as `link -> target`. */
function listEtc(tree: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const rel = relative(tree, p);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/`);
        walk(p);
      } else out.push(rel);
    }
  };
  walk(join(tree, 'etc'));
  return out;
}

const OPTIONS = {
  enabled_services: [
    'ssh.service',
    'getty@.service',
    'serial-getty@ttyS0.service',
    'dbus-org.example.real.service',
    'static.service',
    'sp@two.service',
    'sp@.service',
    'local.service',
    'up.service',
    'reset.service',
  ],
  disabled_services: ['old.service', 'nothere.service', 'reset.service'],
  masked_services: ['masked.service', 'static.service'],
  default_target: 'runlevel5.target',
};

describe('org.osbuild.systemd', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    makeTree(root.tree);
  });
  afterEach(() => root.cleanup());
  const link = (p: string) => readlinkSync(join(root.tree, ETC, p));
  const absent = (p: string) =>
    assert.equal(lstatSync(join(root.tree, ETC, p), { throwIfNoEntry: false }), undefined, p);

  it('enables, disables, masks and sets the default target with the links systemctl makes', () => {
    main(root.args(OPTIONS));
    assert.equal(link('multi-user.target.wants/ssh.service'), `/${LIB}/ssh.service`);
    assert.equal(link('sshd.service'), `/${LIB}/ssh.service`);
    assert.equal(link('sockets.target.wants/ssh.socket'), `/${LIB}/ssh.socket`);
    assert.equal(link('getty.target.wants/getty@tty1.service'), `/${LIB}/getty@.service`);
    assert.equal(link('getty.target.wants/serial-getty@ttyS0.service'), `/${LIB}/serial-getty@.service`);
    assert.equal(link('multi-user.target.wants/real.service'), `/${LIB}/real.service`);
    assert.equal(link('graphical.target.wants/real.service'), `/${LIB}/real.service`);
    assert.equal(link('dbus-org.example.real.service'), `/${LIB}/real.service`);
    assert.equal(link('foo@two.target.wants/sp@two.service'), `/${LIB}/sp@.service`);
    assert.equal(link('x-sp@two.service'), `/${LIB}/sp@.service`);
    assert.equal(link('foo@one.target.wants/sp@one.service'), `/${LIB}/sp@.service`);
    assert.equal(link('multi-user.target.wants/local.service'), `/${ETC}/local.service`);
    assert.equal(link('graphical.target.requires/up.service'), `/${LIB}/up.service`);
    assert.equal(link('multi-user.target.upholds/up.service'), `/${LIB}/up.service`);
    // disabled: every link to old.service and its alias; reset.service's links and emptied dirs
    absent('multi-user.target.wants/old.service');
    absent('old-alias.service');
    absent('sockets.target.wants/reset.service');
    absent('getty.target.wants/reset.service');
    assert.equal(link('multi-user.target.wants/keep.service'), `/${LIB}/sp@.service`);
    assert.ok(existsSync(join(root.tree, ETC, 'timers.target.wants')), 'a directory it did not empty stays');
    // masked
    assert.equal(link('masked.service'), '/dev/null');
    assert.equal(link('static.service'), '/dev/null');
    // the default target is the unit the runlevel5 alias leads to
    assert.equal(link('default.target'), `/${LIB}/graphical.target`);
  });

  it('gives the same links as systemctl --root', {
    skip: spawnSync('systemctl', ['--version']).error ? 'systemctl is not installed' : false,
  }, () => {
    main(root.args(OPTIONS));
    const other = join(root.dir, 'other');
    makeTree(other);
    const systemctl = (...argv: string[]) => {
      const r = spawnSync('systemctl', [`--root=${other}`, ...argv], { encoding: 'utf8' });
      assert.equal(r.status, 0, `systemctl ${argv.join(' ')}: ${r.stderr}`);
    };
    for (const unit of OPTIONS.enabled_services) systemctl('enable', '--', unit);
    for (const unit of OPTIONS.disabled_services) systemctl('disable', '--', unit);
    for (const unit of OPTIONS.masked_services) systemctl('mask', '--', unit);
    systemctl('set-default', OPTIONS.default_target);
    // UpheldBy= is recent (systemd 252 ignores it): .upholds links are left out of the comparison
    const links = (tree: string) => listEtc(tree).filter((l) => !l.includes('.upholds/'));
    assert.deepEqual(links(root.tree), links(other));
  });

  it('fails for a missing or masked unit, a template without instance, and a taken alias', () => {
    assert.throws(() => main(root.args({ enabled_services: ['nothere.service'] })), /does not exist/);
    assert.throws(() => main(root.args({ enabled_services: ['bad name'] })), /not a valid unit name/);
    symlinkSync('/dev/null', join(root.tree, ETC, 'ssh.service'));
    assert.throws(() => main(root.args({ enabled_services: ['ssh.service'] })), /masked/);
    assert.throws(
      () => main(root.args({ enabled_services: ['serial-getty@.service'] })),
      /template and getty.target is not/,
    );
    symlinkSync(`/${LIB}/static.service`, join(root.tree, ETC, 'dbus-org.example.real.service'));
    assert.throws(
      () => main(root.args({ enabled_services: ['real.service'] })),
      /exists already and links to/,
    );
    assert.throws(() => main(root.args({ masked_services: ['local.service'] })), /exists already/);
    assert.throws(() => main(root.args({ default_target: 'nothere.target' })), /does not exist/);
    assert.throws(() => main(root.args({ default_target: 'ssh.socket' })), /not a .target unit/);
  });

  it('masks generators and writes unit drop-ins', () => {
    main(
      root.args({
        masked_generators: ['systemd-gpt-auto-generator'],
        unit_dropins: {
          'nm-cloud-setup.service': {
            '10-rh-enable-for-ec2.conf': { Service: { Environment: 'NM_CLOUD_SETUP_EC2=yes' } },
          },
        },
      }),
    );
    assert.equal(
      readlinkSync(join(root.tree, 'etc/systemd/system-generators/systemd-gpt-auto-generator')),
      '/dev/null',
    );
    assert.equal(
      readFileSync(join(root.tree, LIB, 'nm-cloud-setup.service.d/10-rh-enable-for-ec2.conf'), 'utf8'),
      '[Service]\nEnvironment=NM_CLOUD_SETUP_EC2=yes\n\n',
    );
  });

  it('keeps every link inside the tree when /etc/systemd is a link pointing out of it', () => {
    const moved = join(root.tree, 'moved');
    mkdirSync(moved);
    renameSync(join(root.tree, 'etc/systemd'), join(moved, 'systemd'));
    // far more `..` than the tree is deep: inside the tree they stop at its root
    symlinkSync('../../../../../../../moved/systemd', join(root.tree, 'etc/systemd'));
    main(root.args({ enabled_services: ['ssh.service'], masked_generators: ['x-generator'] }));
    assert.equal(
      readlinkSync(join(moved, 'systemd/system/multi-user.target.wants/ssh.service')),
      `/${LIB}/ssh.service`,
    );
    assert.equal(readlinkSync(join(moved, 'systemd/system-generators/x-generator')), '/dev/null');
    assert.equal(existsSync(join(root.dir, 'moved')), false);
  });
});

describe('systemd unit files', () => {
  it('reads [Install] lists, continuation lines, quotes and resets', () => {
    const info = parseInstall(
      '[Unit]\nWantedBy=not-this.target\n[Install]\nWantedBy=a.target "b.target"\n; comment\nRequiredBy=x.target \\\n y.target\nAlso=\nAlso=z.socket\nDefaultInstance=tty1\n[X-Other]\nAlias=no.service\n',
    );
    assert.deepEqual(info, {
      wantedBy: ['a.target', 'b.target'],
      requiredBy: ['x.target', 'y.target'],
      upheldBy: [],
      alias: [],
      also: ['z.socket'],
      defaultInstance: 'tty1',
    });
  });

  it('expands the specifiers of the unit name and refuses host ones', () => {
    assert.equal(
      expandSpecifiers('%n %N %p %i %I %j %f %%', 'dev-disk@a\\x2db-c.service'),
      'dev-disk@a\\x2db-c.service dev-disk@a\\x2db-c dev-disk a\\x2db-c a-b/c disk /a-b/c %',
    );
    assert.throws(() => expandSpecifiers('%H', 'a.service'), /unsupported specifier %H/);
  });
});
