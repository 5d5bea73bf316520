import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { bootImage } from '../../shared/vm.fixture.ts';
import { earlyConfig, main } from './stage.ts';

const skip = spawnSync('grub-mkstandalone', ['--version']).error
  ? 'grub-mkstandalone is not installed (grub2-common)'
  : !existsSync('/usr/lib/grub/x86_64-efi')
    ? 'GRUB x86_64-efi modules are not installed (grub-efi-amd64-bin)'
    : spawnSync('mcopy', ['--version']).error || spawnSync('mkfs.fat', ['--help']).error
      ? 'mtools or dosfstools is not installed'
      : false;

const ROOT_UUID = '5a1c7d9e-2b3f-4c6d-8e0f-1a2b3c4d5e6f';
const ESP_START = 2048;
const ESP_SIZE = 65536; // 32 MiB
const ROOT_START = ESP_START + ESP_SIZE;

/**
 * A 96 MiB GPT disk image in the tree: an ESP holding a FAT file system (with a file of its own)
 * and an ext4 root file system whose /boot/grub/grub.cfg prints `marker` on the serial port.
 */
function makeDisk(root: TestRoot, marker: string, emptyEsp = false): string {
  const image = join(root.tree, 'disk.raw');
  writeFileSync(image, '');
  truncateSync(image, 96 * 1024 * 1024);
  execFileSync('sfdisk', ['-q', image], {
    input:
      'label: gpt\n' +
      `start=${ESP_START}, size=${ESP_SIZE}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n` +
      `start=${ROOT_START}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n`,
  });
  const esp = join(root.dir, 'esp.img');
  writeFileSync(esp, '');
  truncateSync(esp, ESP_SIZE * 512);
  execFileSync('mkfs.fat', ['-i', '7B7795E7', esp], { stdio: 'ignore' });
  if (!emptyEsp) {
    writeFileSync(join(root.dir, 'keep.txt'), 'keep me\n');
    execFileSync('mmd', ['-i', esp, '::/EFI']);
    execFileSync('mcopy', ['-i', esp, join(root.dir, 'keep.txt'), '::/EFI/keep.txt']);
  }
  const fd = openSync(image, 'r+');
  writeSync(fd, readFileSync(esp), 0, ESP_SIZE * 512, ESP_START * 512);
  const fs = join(root.dir, 'fs');
  mkdirSync(join(fs, 'boot/grub'), { recursive: true });
  writeFileSync(
    join(fs, 'boot/grub/grub.cfg'),
    `serial --unit=0 --speed=115200\nterminal_output serial console\necho "${marker} root=$root dir=$config_directory"\nsleep 600\n`,
  );
  execFileSync('mkfs.ext4', [
    '-q',
    '-F',
    '-U',
    ROOT_UUID,
    '-E',
    `offset=${ROOT_START * 512}`,
    '-d',
    fs,
    image,
    '60M',
  ]);
  return image;
}

function espFiles(image: string): string[] {
  return execFileSync('mdir', ['-/', '-b', '-i', `${image}@@${ESP_START * 512}`, '::/'], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('org.osbuild.grub2.efi', { skip }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('builds in a search for the root or boot file system', () => {
    const rootCfg = earlyConfig({ root_fs_uuid: ROOT_UUID });
    assert.match(rootCfg, /^insmod part_gpt$/m);
    assert.match(rootCfg, /^insmod ext2$/m);
    assert.match(rootCfg, new RegExp(`^if search --no-floppy --fs-uuid --set=root ${ROOT_UUID}; then$`, 'm'));
    assert.match(rootCfg, /^ {2}configfile \(\$root\)\/boot\/grub\/grub\.cfg$/m);
    assert.ok(rootCfg.indexOf('insmod part_gpt') < rootCfg.indexOf('search'));
    const bootCfg = earlyConfig({ root_fs_uuid: ROOT_UUID, boot_fs_uuid: '6699-AFB5' });
    assert.match(bootCfg, /--set=root 6699-AFB5; then\n {2}configfile \(\$root\)\/grub\/grub\.cfg\n/);
  });

  it('writes the boot loader into the FAT file system of the ESP, keeping what is there', () => {
    const image = makeDisk(root, 'x');
    const before = readFileSync(image);
    const meta = main(
      root.args({ filename: '/../../disk.raw', start: ESP_START, size: ESP_SIZE, root_fs_uuid: ROOT_UUID }),
    );
    assert.equal(meta.fat, 'FAT16');
    assert.deepEqual(meta.files, ['/EFI/BOOT/BOOTX64.EFI', '/EFI/debian/grubx64.efi']);
    const files = espFiles(image);
    for (const f of ['::/EFI/BOOT/BOOTX64.EFI', '::/EFI/debian/grubx64.efi', '::/EFI/keep.txt']) {
      assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
    }
    const mtype = (file: string) =>
      execFileSync('mtype', ['-i', `${image}@@${ESP_START * 512}`, file], { maxBuffer: 64 << 20 });
    const efi = mtype('::/EFI/BOOT/BOOTX64.EFI');
    assert.equal(efi.toString('latin1', 0, 2), 'MZ');
    assert.ok(efi.includes(Buffer.from(`--set=root ${ROOT_UUID}`)), 'the early config is inside the binary');
    assert.ok(mtype('::/EFI/debian/grubx64.efi').equals(efi));
    assert.equal(mtype('::/EFI/keep.txt').toString(), 'keep me\n');
    // Outside the ESP nothing changed.
    const after = readFileSync(image);
    assert.ok(after.subarray(0, ESP_START * 512).equals(before.subarray(0, ESP_START * 512)));
    assert.ok(after.subarray(ROOT_START * 512).equals(before.subarray(ROOT_START * 512)));

    // Again, with another vendor: files are replaced, the old vendor directory stays.
    main(
      root.args({
        filename: 'disk.raw',
        start: ESP_START,
        size: ESP_SIZE,
        root_fs_uuid: ROOT_UUID,
        vendor: 'forge',
      }),
    );
    assert.ok(espFiles(image).includes('::/EFI/forge/grubx64.efi'));
    assert.ok(espFiles(image).includes('::/EFI/debian/grubx64.efi'));
  });

  it('writes into an empty FAT file system', () => {
    const image = makeDisk(root, 'x', true);
    main(root.args({ filename: 'disk.raw', start: ESP_START, size: ESP_SIZE, root_fs_uuid: ROOT_UUID }));
    assert.deepEqual(espFiles(image).sort(), [
      '::/EFI/',
      '::/EFI/BOOT/',
      '::/EFI/BOOT/BOOTX64.EFI',
      '::/EFI/debian/',
      '::/EFI/debian/grubx64.efi',
    ]);
  });

  it('refuses a partition without a FAT file system, too small for it, or beyond the image', () => {
    const image = makeDisk(root, 'x');
    const args = (start: number, size: number) =>
      root.args({ filename: 'disk.raw', start, size, root_fs_uuid: ROOT_UUID });
    assert.throws(() => main(args(ROOT_START, 1000)), /no FAT file system at byte/);
    assert.throws(() => main(args(ESP_START, 1000)), /larger than the partition/);
    assert.throws(() => main(args(ESP_START, 1_000_000)), /beyond the end of disk.raw/);
    assert.throws(
      () => main(root.args({ filename: 'none.raw', start: 1, size: 1, root_fs_uuid: ROOT_UUID })),
      /cannot open the image none.raw/,
    );
    assert.ok(!espFiles(image).includes('::/EFI/BOOT/'));
  });

  it('boots under OVMF to the grub.cfg of the root file system', async (t) => {
    const marker = 'FORGE-UEFI-OK';
    const image = makeDisk(root, marker);
    main(root.args({ filename: 'disk.raw', start: ESP_START, size: ESP_SIZE, root_fs_uuid: ROOT_UUID }));
    const vm = await bootImage({ image, format: 'raw', firmware: 'uefi', memoryMiB: 256, name: 'grub2.efi' });
    if ('skipped' in vm) return t.skip(vm.skipped);
    try {
      const m = await vm.waitFor(new RegExp(`${marker} root=(\\S+) dir=(\\S+)\\n`), 180);
      assert.equal(m[1], 'hd0,gpt2');
      assert.equal(m[2], '(hd0,gpt2)/boot/grub');
    } finally {
      await vm.shutdown();
    }
  });
});
