import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const UUID = '6e1b6f3e-2f7a-4c55-9a43-0d8a0f6f4b21';

/** A boot loader entry as `ostree admin deploy` writes it. */
const entry = (version: number, csum: string) =>
  [
    `title Debian GNU/Linux 12 (bookworm) (ostree:debian:${version - 1})`,
    `version ${version}`,
    `options root=UUID=${UUID} rw console=ttyS0,115200n8 ostree=/ostree/boot.1/debian/${csum}/0`,
    `linux /ostree/debian-${csum}/vmlinuz-6.1.0-56-amd64`,
    `initrd /ostree/debian-${csum}/initramfs-6.1.0-56-amd64.img`,
    '',
  ].join('\n');

describe('org.osbuild.ostree.grub2.config', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  const deployEntries = (entries: string[]) => {
    const dir = join(root.tree, 'boot/loader.1/entries');
    mkdirSync(dir, { recursive: true });
    entries.forEach((text, i) => {
      writeFileSync(join(dir, `ostree-${i + 1}-debian.conf`), text);
    });
    symlinkSync('loader.1', join(root.tree, 'boot/loader'));
  };

  it('writes a menu of the deployments, newest first, booting from the root file system', () => {
    deployEntries([entry(1, 'a'.repeat(64)), entry(2, 'b'.repeat(64))]);
    main(
      root.args({
        root_fs_uuid: UUID,
        config: { timeout: 3, serial: 'serial --speed=115200', terminal: ['serial'] },
      }),
    );
    const cfg = readFileSync(join(root.tree, 'boot/loader.1/grub.cfg'), 'utf8');
    assert.equal(readlinkSync(join(root.tree, 'boot/grub/grub.cfg')), '../loader/grub.cfg');
    assert.match(
      cfg,
      /^serial --speed=115200\nterminal_input serial\nterminal_output serial\nset timeout=3\n/m,
    );
    const entries = [...cfg.matchAll(/^menuentry '([^']*)'[^\n]*\{\n([\s\S]*?)\n\}/gm)];
    assert.equal(entries.length, 2);
    assert.match(entries[0]?.[1] ?? '', /ostree:debian:1\)$/);
    assert.match(entries[1]?.[1] ?? '', /ostree:debian:0\)$/);
    const body = entries[0]?.[2] ?? '';
    assert.match(body, new RegExp(`search --no-floppy --fs-uuid --set=root ${UUID}`));
    assert.match(
      body,
      new RegExp(
        `\\n  linux /boot/ostree/debian-${'b'.repeat(64)}/vmlinuz-6.1.0-56-amd64 root=UUID=${UUID} rw console=ttyS0,115200n8 ostree=/ostree/boot.1/debian/${'b'.repeat(64)}/0\\n`,
      ),
    );
    assert.match(body, /\n {2}initrd \/boot\/ostree\/debian-b{64}\/initramfs-6\.1\.0-56-amd64\.img$/);
    assert.doesNotMatch(cfg, /linux16|linuxefi/);
  });

  it('refuses a system root without deployments', () => {
    assert.throws(() => main(root.args({ root_fs_uuid: UUID })), /deploy a commit first/);
    deployEntries([]);
    assert.throws(() => main(root.args({ root_fs_uuid: UUID })), /no boot loader entry/);
  });
});
