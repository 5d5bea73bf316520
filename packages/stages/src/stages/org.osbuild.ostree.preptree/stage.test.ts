import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as commit } from '../org.osbuild.ostree.commit/stage.ts';
import { main as init } from '../org.osbuild.ostree.init/stage.ts';
import { main, tmpfilesArgument, tmpfilesPath } from './stage.ts';

const hasTmpfiles = (() => {
  try {
    execFileSync('systemd-tmpfiles', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const canChroot = process.getuid?.() === 0;

const hasOstree = hasProgram('ostree');

const KVER = '6.1.0-test';

/** A small Debian-like tree: merged /usr, a kernel, a dpkg database and a little of everything. */
function debianTree(tree: string, mergedUsr = true): void {
  const file = (path: string, text: string, mode = 0o644) => {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text, { mode });
  };
  const dir = (path: string, mode = 0o755) => {
    mkdirSync(join(tree, path), { recursive: true });
    chmodSync(join(tree, path), mode);
  };
  dir('usr/bin');
  dir('usr/lib');
  if (mergedUsr) {
    symlinkSync('usr/bin', join(tree, 'bin'));
    symlinkSync('usr/lib', join(tree, 'lib'));
  } else {
    dir('lib');
  }
  file('etc/os-release', 'ID=debian\n');
  file('etc/machine-id', '0123456789abcdef0123456789abcdef\n', 0o444);
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n');
  file('etc/group', 'root:x:0:\nadm:x:4:\nusers:x:100:alice,bob\nnogroup:x:65534:\n');
  file('var/lib/dpkg/status', 'Package: dpkg\nStatus: install ok installed\n');
  file('var/lib/dpkg/info/dpkg.list', '/usr/bin/dpkg\n');
  file('var/log/install 100%.log', 'log\n', 0o640);
  dir('var/cache/private', 0o700);
  dir('var/tmp', 0o1777);
  symlinkSync('/run', join(tree, 'var/run'));
  file('home/alice/.profile', 'PATH=$PATH\n');
  file('root/.bashrc', 'PS1=#\n');
  chmodSync(join(tree, 'root'), 0o700);
  file('opt/app/run', '#!/bin/sh\n', 0o755);
  dir('srv');
  dir('mnt');
  dir('media');
  dir('usr/local/bin');
  file(`boot/vmlinuz-${KVER}`, 'kernel');
  file(`boot/initrd.img-${KVER}`, 'initrd');
  file(`boot/config-${KVER}`, 'CONFIG_X=y\n');
  file(`boot/System.map-${KVER}`, 'map\n');
  file(`lib/modules/${KVER}/modules.dep`, '');
  symlinkSync(`boot/vmlinuz-${KVER}`, join(tree, 'vmlinuz'));
  symlinkSync(`boot/initrd.img-${KVER}`, join(tree, 'initrd.img'));
  file('dev/null', '');
  execFileSync('mkfifo', [join(tree, 'dev/initctl')]);
  file('tmp/leftover', 'x');
  dir('proc');
  dir('sys');
  file('run/lock/x', '');
}

/** Each toplevel name with `/` for a directory or `-> target` for a link. */
function toplevel(tree: string): string[] {
  return readdirSync(tree)
    .sort()
    .map((name) => {
      const st = lstatSync(join(tree, name));
      if (st.isSymbolicLink()) return `${name} -> ${readlinkSync(join(tree, name))}`;
      return st.isDirectory() ? `${name}/` : name;
    });
}

describe('org.osbuild.ostree.preptree', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());
  const at = (p: string) => join(root.tree, p);

  it('reshapes a Debian tree into the OSTree layout', () => {
    debianTree(root.tree);
    main(root.args({}));
    assert.deepEqual(toplevel(root.tree), [
      'bin -> usr/bin',
      'boot/',
      'dev/',
      'home -> var/home',
      'lib -> usr/lib',
      'media -> run/media',
      'mnt -> var/mnt',
      'opt -> var/opt',
      'ostree -> sysroot/ostree',
      'proc/',
      'root -> var/roothome',
      'run/',
      'srv -> var/srv',
      'sys/',
      'sysroot/',
      'tmp/',
      'usr/',
      'var/',
    ]);
    for (const d of ['dev', 'proc', 'sys', 'run', 'sysroot', 'var', 'tmp', 'boot']) {
      assert.deepEqual(readdirSync(at(d)), [], `/${d} is empty`);
    }
    assert.equal(lstatSync(at('tmp')).mode & 0o7777, 0o1777);
    assert.equal(readlinkSync(at('usr/local')), '../var/usrlocal');

    // Kernel and initramfs where ostree looks first.
    const mod = `usr/lib/modules/${KVER}`;
    assert.deepEqual(readdirSync(at(mod)).sort(), [
      'System.map',
      'config',
      'initramfs.img',
      'modules.dep',
      'vmlinuz',
    ]);
    assert.equal(readFileSync(at(`${mod}/vmlinuz`), 'utf8'), 'kernel');
    assert.equal(readFileSync(at(`${mod}/initramfs.img`), 'utf8'), 'initrd');

    // /etc in /usr, machine-id emptied, users for sysusers.
    assert.equal(existsSync(at('etc')), false);
    assert.equal(readFileSync(at('usr/etc/os-release'), 'utf8'), 'ID=debian\n');
    assert.equal(readFileSync(at('usr/etc/machine-id'), 'utf8'), '');
    assert.equal(
      readFileSync(at('usr/lib/sysusers.d/ostree-preptree.conf'), 'utf8'),
      [
        '# The users and groups of the committed tree, so a kept /etc still gets new ones.',
        'g root 0',
        'g adm 4',
        'g users 100',
        'g nogroup 65534',
        'u root 0:0 root /root /bin/bash',
        'u _apt 42:65534 - /nonexistent /usr/sbin/nologin',
        'm alice users',
        'm bob users',
        '',
      ].join('\n'),
    );

    // The dpkg database beside /usr, /var in the factory and rebuilt by tmpfiles.
    assert.equal(
      readFileSync(at('usr/lib/sysimage/dpkg/status'), 'utf8'),
      'Package: dpkg\nStatus: install ok installed\n',
    );
    const factory = 'usr/share/factory/var';
    assert.equal(readFileSync(at(`${factory}/home/alice/.profile`), 'utf8'), 'PATH=$PATH\n');
    assert.equal(readFileSync(at(`${factory}/roothome/.bashrc`), 'utf8'), 'PS1=#\n');
    assert.deepEqual(readdirSync(at(`${factory}/lib`)), []);
    assert.equal(
      readFileSync(at('usr/lib/tmpfiles.d/ostree-preptree-var.conf'), 'utf8'),
      [
        '# /var of the committed tree, recreated at boot from /usr/share/factory/var.',
        'd /var/cache 0755 0 0 -',
        'd /var/cache/private 0700 0 0 -',
        'd /var/home 0755 0 0 -',
        'd /var/home/alice 0755 0 0 -',
        'C /var/home/alice/.profile - - - - /usr/share/factory/var/home/alice/.profile',
        'd /var/lib 0755 0 0 -',
        'L /var/lib/dpkg - - - - ../../usr/lib/sysimage/dpkg',
        'd /var/log 0755 0 0 -',
        'C "/var/log/install 100%%.log" - - - - /usr/share/factory/var/log/install 100%%.log',
        'd /var/opt 0755 0 0 -',
        'd /var/opt/app 0755 0 0 -',
        'C /var/opt/app/run - - - - /usr/share/factory/var/opt/app/run',
        'd /var/roothome 0700 0 0 -',
        'C /var/roothome/.bashrc - - - - /usr/share/factory/var/roothome/.bashrc',
        'L /var/run - - - - /run',
        'd /var/tmp 1777 0 0 -',
        'd /var/usrlocal 0755 0 0 -',
        'd /var/usrlocal/bin 0755 0 0 -',
        '',
      ].join('\n'),
    );
  });

  it('writes tmpfiles lines that systemd-tmpfiles turns back into /var', {
    skip: !hasTmpfiles && 'systemd-tmpfiles is not installed',
  }, () => {
    debianTree(root.tree);
    const odd = 'we"ird é\\x20';
    writeFileSync(at(`var/log/${odd}`), 'odd\n');
    main(root.args({}));
    execFileSync(
      'systemd-tmpfiles',
      ['--create', `--root=${root.tree}`, at('usr/lib/tmpfiles.d/ostree-preptree-var.conf')],
      {
        stdio: 'inherit',
      },
    );
    assert.equal(
      readFileSync(at('var/lib/dpkg/status'), 'utf8'),
      'Package: dpkg\nStatus: install ok installed\n',
    );
    assert.equal(readFileSync(at('var/log/install 100%.log'), 'utf8'), 'log\n');
    assert.equal(lstatSync(at('var/log/install 100%.log')).mode & 0o777, 0o640);
    assert.equal(readFileSync(at(`var/log/${odd}`), 'utf8'), 'odd\n');
    assert.equal(readFileSync(at('home/alice/.profile'), 'utf8'), 'PATH=$PATH\n');
    assert.equal(readFileSync(at('root/.bashrc'), 'utf8'), 'PS1=#\n');
    assert.equal(lstatSync(at('var/roothome')).mode & 0o7777, 0o700);
    assert.equal(lstatSync(at('var/tmp')).mode & 0o7777, 0o1777);
    assert.equal(readlinkSync(at('var/run')), '/run');
  });

  it('builds the initramfs with the tree’s dracut, chrooted, with the ostree module', {
    skip:
      (!BUSYBOX &&
        'a static busybox is needed for a shell in the test tree (apt-get install busybox-static)') ||
      (!canChroot && 'chroot needs root'),
  }, () => {
    debianTree(root.tree);
    // A stand-in dracut: a static shell in the tree, and a script recording how it was called.
    execFileSync('cp', [BUSYBOX as string, at('usr/bin/busybox')]);
    symlinkSync('busybox', at('usr/bin/sh'));
    writeFileSync(
      at('usr/bin/dracut'),
      '#!/bin/sh\nfor a; do out=$a; done\necho "$@" > "$out"\n[ -f /etc/os-release ] && echo etc-present >> "$out"\n',
      { mode: 0o755 },
    );
    main(root.args({ 'initramfs-args': ['--zstd', '--add', 'ostree-extra'] }));
    assert.equal(
      readFileSync(at(`usr/lib/modules/${KVER}/initramfs.img`), 'utf8'),
      `--force --no-hostonly --reproducible --add ostree --zstd --add ostree-extra --kver ${KVER} /usr/lib/modules/${KVER}/initramfs.img\netc-present\n`,
    );
    assert.equal(existsSync(at(`boot/initrd.img-${KVER}`)), false);
    assert.deepEqual(readdirSync(at('boot')), []);
  });

  it('moves the modules of a tree without merged /usr, and makes /tmp a link on request', () => {
    debianTree(root.tree, false);
    main(root.args({ 'tmp-is-dir': false, etc_group_members: ['wheel'], 'initramfs-args': ['--zstd'] }));
    assert.equal(existsSync(at('lib/modules')), false);
    assert.equal(readFileSync(at(`usr/lib/modules/${KVER}/vmlinuz`), 'utf8'), 'kernel');
    assert.equal(readlinkSync(at('tmp')), 'sysroot/tmp');
  });

  it('joins /opt to an existing /var/opt, as Debian’s base system has both', () => {
    debianTree(root.tree);
    mkdirSync(at('var/opt'), { recursive: true });
    mkdirSync(at('opt/tool'), { recursive: true });
    main(root.args({}));
    assert.equal(readlinkSync(at('opt')), 'var/opt');
    assert.ok(existsSync(at('usr/share/factory/var/opt/tool')));
    root.cleanup();
    root = testRoot();
    debianTree(root.tree);
    mkdirSync(at('var/opt/tool'), { recursive: true });
    mkdirSync(at('opt/tool'), { recursive: true });
    assert.throws(() => main(root.args({})), /cannot move \/opt\/tool to \/var\/opt: it exists already/);
  });

  it('refuses a prepared tree, a tree without /usr and a full /media', () => {
    assert.throws(() => main(root.args({})), /no \/usr directory/);
    debianTree(root.tree);
    writeFileSync(at('media/disk'), '');
    assert.throws(() => main(root.args({})), /\/media is not empty/);
    root.cleanup();
    root = testRoot();
    debianTree(root.tree);
    main(root.args({}));
    mkdirSync(at('etc'));
    assert.throws(() => main(root.args({})), /\/usr\/etc exists already/);
  });

  it('gives a tree that ostree commits as a bootable commit', {
    skip: !hasOstree && 'ostree is not installed',
  }, () => {
    debianTree(root.tree);
    main(root.args({}));
    const out = testRoot();
    try {
      init(out.args({ mode: 'bare-user' }));
      const input = { path: root.tree };
      const meta = commit(
        out.args({ ref: 'debian/12/x86_64/atomic', os_version: '12.0.1' }, { inputs: { tree: input } }),
      );
      const id = meta.compose['ostree-commit'] as string;
      const ostree = (...argv: string[]) =>
        execFileSync('ostree', [...argv, `--repo=${join(out.tree, 'repo')}`], { encoding: 'utf8' });
      assert.equal(ostree('refs').trim(), 'debian/12/x86_64/atomic');
      assert.match(ostree('log', 'debian/12/x86_64/atomic'), /Version: 12\.0\.1/);
      assert.equal(ostree('show', '--print-metadata-key=ostree.bootable', id).trim(), 'true');
      // ostree ls: type, mode, uid, gid, size, path (and -> target for links) of the toplevel.
      const top = ostree('ls', id, '/')
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).filter((_, i) => i === 0 || i >= 4))
        // ostree lists files and links before directories: order by path.
        .sort((a, b) => ((a[1] as string) < (b[1] as string) ? -1 : 1))
        .map((fields) => fields.join(' '));
      assert.deepEqual(top, [
        'd00755 /',
        'l00777 /bin -> usr/bin',
        'd00755 /boot',
        'd00755 /dev',
        'l00777 /home -> var/home',
        'l00777 /lib -> usr/lib',
        'l00777 /media -> run/media',
        'l00777 /mnt -> var/mnt',
        'l00777 /opt -> var/opt',
        'l00777 /ostree -> sysroot/ostree',
        'd00755 /proc',
        'l00777 /root -> var/roothome',
        'd00755 /run',
        'l00777 /srv -> var/srv',
        'd00755 /sys',
        'd00755 /sysroot',
        'd01777 /tmp',
        'd00755 /usr',
        'd00755 /var',
      ]);
      assert.equal(ostree('cat', id, '/usr/etc/os-release'), 'ID=debian\n');
      assert.match(ostree('ls', id, `/usr/lib/modules/${KVER}`), /initramfs\.img[\s\S]*vmlinuz/);
    } finally {
      out.cleanup();
    }
  });

  it('escapes tmpfiles fields', () => {
    assert.equal(tmpfilesPath('/var/plain-1.2'), '/var/plain-1.2');
    assert.equal(tmpfilesPath('/var/a b%c\\d"é'), '"/var/a b%%c\\\\d\\"é"');
    assert.equal(tmpfilesArgument('/a b%c\\d'), '/a b%%c\\\\d');
    assert.throws(() => tmpfilesPath('/var/a\nb'), /cannot write/);
  });
});
