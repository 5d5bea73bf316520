import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { compareVersions, main } from './stage.ts';

const UUID = '6e1f8a2c-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const BOOT_UUID = '0d2c4b6a-8f9e-4a1b-9c2d-3e4f5a6b7c8d';
const haveScriptCheck = !spawnSync('grub-script-check', ['--help']).error;
const haveI386 = existsSync('/usr/lib/grub/i386-pc/normal.mod');

/** A tree with two kernels (one without initrd), a stale dpkg file, and os-release behind a link. */
function debianTree(root: TestRoot): void {
  const boot = join(root.tree, 'boot');
  mkdirSync(boot);
  for (const f of [
    'vmlinuz-6.1.0-9-amd64',
    'vmlinuz-6.1.0-18-amd64',
    'initrd.img-6.1.0-18-amd64',
    'vmlinuz-6.1.0-18-amd64.dpkg-tmp',
    'config-6.1.0-18-amd64',
  ]) {
    writeFileSync(join(boot, f), 'x');
  }
  mkdirSync(join(root.tree, 'usr/lib'), { recursive: true });
  mkdirSync(join(root.tree, 'etc'));
  writeFileSync(
    join(root.tree, 'usr/lib/os-release'),
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n',
  );
  symlinkSync('../usr/lib/os-release', join(root.tree, 'etc/os-release'));
}

/** The variables /etc/default/grub sets, as the shell reads them. */
function sourceDefaults(path: string): Record<string, string> {
  const out = execFileSync('sh', ['-c', `set -a; . "$1"; env -0`, 'sh', path], { encoding: 'utf8', env: {} });
  return Object.fromEntries(
    out
      .split('\0')
      .filter((l) => l.startsWith('GRUB_'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function linuxLines(cfg: string): string[] {
  return cfg
    .split('\n')
    .filter((l) => /^\s*linux\s/.test(l))
    .map((l) => l.trim().replace(/\s+/g, ' '));
}

describe('org.osbuild.grub2', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    debianTree(root);
  });
  afterEach(() => root.cleanup());

  it('orders kernel versions as sort -V does', () => {
    const versions = ['6.1.0-9-amd64', '6.1.0-18-amd64', '5.10.0-28-amd64', '6.1.0-18-cloud-amd64', '6.10.1'];
    assert.deepEqual(versions.sort(compareVersions), [
      '5.10.0-28-amd64',
      '6.1.0-9-amd64',
      '6.1.0-18-amd64',
      '6.1.0-18-cloud-amd64',
      '6.10.1',
    ]);
  });

  it('writes grub.cfg with an entry per kernel, root=UUID, serial console, and /etc/default/grub', () => {
    const meta = main(
      root.args({
        root_fs_uuid: UUID,
        kernel_opts: 'console=ttyS0,115200n8 net.ifnames=0',
        uefi: { vendor: 'debian' },
        config: {
          timeout: 1,
          serial: 'serial --unit=0 --speed=115200',
          terminal_input: ['serial', 'console'],
          terminal_output: ['serial', 'console'],
        },
      }),
    );
    assert.deepEqual(meta.kernels, ['6.1.0-18-amd64', '6.1.0-9-amd64']);
    const cfg = readFileSync(join(root.tree, 'boot/grub/grub.cfg'), 'utf8');
    assert.doesNotMatch(cfg, /\/dev\/|loop|dpkg-tmp/);
    assert.match(
      cfg,
      /^serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n/m,
    );
    assert.match(cfg, /^set timeout=1$/m);
    assert.match(cfg, /^ {2}set default='0'$/m);
    // The simple entry boots the newest kernel; the submenu has both, each with a recovery entry.
    const linux = linuxLines(cfg);
    const opts = `root=UUID=${UUID} ro console=ttyS0,115200n8 net.ifnames=0`;
    assert.deepEqual(linux, [
      `linux /boot/vmlinuz-6.1.0-18-amd64 ${opts}`,
      `linux /boot/vmlinuz-6.1.0-18-amd64 ${opts}`,
      `linux /boot/vmlinuz-6.1.0-18-amd64 root=UUID=${UUID} ro single console=ttyS0,115200n8 net.ifnames=0`,
      `linux /boot/vmlinuz-6.1.0-9-amd64 ${opts}`,
      `linux /boot/vmlinuz-6.1.0-9-amd64 root=UUID=${UUID} ro single console=ttyS0,115200n8 net.ifnames=0`,
    ]);
    assert.equal((cfg.match(/^\s*initrd\s+\/boot\/initrd\.img-6\.1\.0-18-amd64$/gm) ?? []).length, 3);
    assert.match(
      cfg,
      /^menuentry 'Debian GNU\/Linux' --class debian --class gnu-linux .* 'gnulinux-simple-6e1f8a2c/m,
    );
    assert.match(cfg, /^\tmenuentry 'Debian GNU\/Linux, with Linux 6\.1\.0-9-amd64' /m);
    assert.match(cfg, new RegExp(`search --no-floppy --set=root --fs-uuid ${UUID}`));
    if (haveScriptCheck) {
      const check = spawnSync('grub-script-check', [join(root.tree, 'boot/grub/grub.cfg')], {
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    }

    const defaults = sourceDefaults(join(root.tree, 'etc/default/grub'));
    assert.equal(defaults.GRUB_CMDLINE_LINUX, 'console=ttyS0,115200n8 net.ifnames=0');
    assert.equal(defaults.GRUB_CMDLINE_LINUX_DEFAULT, '');
    assert.equal(defaults.GRUB_TIMEOUT, '1');
    assert.equal(defaults.GRUB_DEFAULT, '0');
    assert.equal(defaults.GRUB_DISTRIBUTOR, 'Debian');
    assert.equal(defaults.GRUB_SERIAL_COMMAND, 'serial --unit=0 --speed=115200');
    assert.equal(defaults.GRUB_TERMINAL_INPUT, 'serial console');
    assert.equal(defaults.GRUB_TERMINAL_OUTPUT, 'serial console');

    const env = readFileSync(join(root.tree, 'boot/grub/grubenv'), 'utf8');
    assert.equal(env.length, 1024);
    assert.match(
      env,
      /^# GRUB Environment Block\nkernelopts=root=UUID=6e1f8a2c\S+ console=ttyS0,115200n8 net.ifnames=0\n#+$/,
    );

    const efi = readFileSync(join(root.tree, 'boot/efi/EFI/debian/grub.cfg'), 'utf8');
    assert.equal(
      efi,
      `search --no-floppy --set=root --fs-uuid ${UUID}\nset prefix=($root)'/boot/grub'\nconfigfile $prefix/grub.cfg\n`,
    );
    assert.equal(existsSync(join(root.tree, 'boot/grub/i386-pc')), false);
  });

  it('handles a separate /boot, labels, flat menus, saved entries and quoting', () => {
    main(
      root.args({
        rootfs: { label: 'root' },
        boot_fs_uuid: BOOT_UUID,
        kernel_opts: 'rw quiet "a b" $x',
        saved_entry: 'gnulinux-6.1.0-9-amd64-advanced-x',
        write_cmdline: false,
        config: {
          disable_submenu: true,
          disable_recovery: true,
          distributor: "Bob's OS",
          timeout_style: 'hidden',
        },
      }),
    );
    const cfg = readFileSync(join(root.tree, 'boot/grub/grub.cfg'), 'utf8');
    assert.deepEqual(linuxLines(cfg), [
      'linux /vmlinuz-6.1.0-18-amd64 root=LABEL=root rw quiet "a b" $x',
      'linux /vmlinuz-6.1.0-9-amd64 root=LABEL=root rw quiet "a b" $x',
    ]);
    assert.doesNotMatch(cfg, /submenu|recovery/);
    assert.match(cfg, /^\s*initrd\s+\/initrd\.img-6\.1\.0-18-amd64$/m);
    assert.match(cfg, new RegExp(`search --no-floppy --set=root --fs-uuid ${BOOT_UUID}`));
    assert.match(cfg, /^ {2}set default="\$\{saved_entry\}"$/m);
    assert.match(cfg, /^menuentry 'Bob'\\''s OS GNU\/Linux, with Linux 6\.1\.0-18-amd64' --class bob_s /m);
    assert.match(cfg, /^set timeout_style=hidden\nset timeout=0$/m);
    if (haveScriptCheck) {
      const check = spawnSync('grub-script-check', [join(root.tree, 'boot/grub/grub.cfg')], {
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    }
    const defaults = sourceDefaults(join(root.tree, 'etc/default/grub'));
    assert.equal(defaults.GRUB_CMDLINE_LINUX, 'rw quiet "a b" $x');
    assert.equal(defaults.GRUB_DEFAULT, 'saved');
    assert.equal(defaults.GRUB_DISTRIBUTOR, "Bob's OS");
    assert.equal(defaults.GRUB_DISABLE_SUBMENU, 'true');
    assert.equal(defaults.GRUB_DISABLE_RECOVERY, 'true');
    const env = readFileSync(join(root.tree, 'boot/grub/grubenv'), 'utf8');
    assert.match(env, /^# GRUB Environment Block\nsaved_entry=gnulinux-6\.1\.0-9-amd64-advanced-x\n#+$/);
  });

  it('copies the BIOS modules and font for legacy boot', {
    skip: haveI386 ? false : 'no GRUB i386-pc modules',
  }, () => {
    const meta = main(root.args({ root_fs_uuid: UUID, legacy: true, write_defaults: false }));
    assert.ok(statSync(join(root.tree, 'boot/grub/i386-pc/normal.mod')).size > 0);
    assert.ok(existsSync(join(root.tree, 'boot/grub/i386-pc/command.lst')));
    assert.ok(!existsSync(join(root.tree, 'boot/grub/i386-pc/fdt.lst')));
    assert.ok(!existsSync(join(root.tree, 'boot/grub/i386-pc/boot.img')));
    assert.ok(existsSync(join(root.tree, 'boot/grub/fonts/unicode.pf2')));
    assert.ok((meta.modules as number) > 100);
    assert.ok(!existsSync(join(root.tree, 'etc/default/grub')));
  });

  it('installs EFI binaries from the build root when asked', () => {
    const src = join(root.dir, 'efi');
    mkdirSync(join(src, 'BOOT'), { recursive: true });
    mkdirSync(join(src, 'debian'), { recursive: true });
    writeFileSync(join(src, 'BOOT/BOOTX64.EFI'), 'shim');
    writeFileSync(join(src, 'debian/grubx64.efi'), 'grub');
    main(root.args({ root_fs_uuid: UUID, uefi: { vendor: 'debian', install: true, efi_src_dir: src } }));
    assert.equal(readFileSync(join(root.tree, 'boot/efi/EFI/BOOT/BOOTX64.EFI'), 'utf8'), 'shim');
    assert.equal(readFileSync(join(root.tree, 'boot/efi/EFI/debian/grubx64.efi'), 'utf8'), 'grub');
    assert.ok(existsSync(join(root.tree, 'boot/efi/EFI/debian/grub.cfg')));
    assert.throws(
      () =>
        main(root.args({ root_fs_uuid: UUID, uefi: { vendor: 'fedora', install: true, efi_src_dir: src } })),
      /has no .*efi\/fedora to install/,
    );
  });

  it('stays inside the tree when /boot is an absolute symbolic link', () => {
    const real = join(root.dir, 'outside');
    mkdirSync(join(root.tree, 'sysboot'));
    writeFileSync(join(root.tree, 'sysboot/vmlinuz-1.0'), 'x');
    execFileSync('mv', [join(root.tree, 'boot'), real]);
    symlinkSync('/sysboot', join(root.tree, 'boot'));
    main(root.args({ root_fs_uuid: UUID }));
    assert.ok(existsSync(join(root.tree, 'sysboot/grub/grub.cfg')));
    assert.ok(!existsSync(join(real, 'grub')));
    assert.deepEqual(
      linuxLines(readFileSync(join(root.tree, 'sysboot/grub/grub.cfg'), 'utf8'))[0],
      `linux /boot/vmlinuz-1.0 root=UUID=${UUID} ro`,
    );
  });

  it('refuses trees without kernels, greenboot, and unknown platforms', () => {
    assert.throws(() => main(root.args({ root_fs_uuid: UUID, greenboot: true })), /increment module/);
    assert.throws(
      () => main(root.args({ root_fs_uuid: UUID, legacy: 'sparc64-nowhere' })),
      /no GRUB modules for sparc64-nowhere/,
    );
    assert.throws(() => main(root.args({ root_fs_uuid: UUID, legacy: '../..' })), /invalid GRUB platform/);
    assert.throws(() => main(root.args({ kernel_opts: '' })), /rootfs or root_fs_uuid/);
    const empty = testRoot();
    try {
      assert.throws(() => main(empty.args({ root_fs_uuid: UUID })), /no kernel \/boot\/vmlinuz-<version>/);
    } finally {
      empty.cleanup();
    }
  });
});
