import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { bootImage } from '../../shared/vm.fixture.ts';
import { BIOS_BOOT_GUID, corePrefix, main, mkimageBinary } from './stage.ts';

const MODULES = '/usr/lib/grub/i386-pc';
const skip = spawnSync('grub-mkimage', ['--version']).error
  ? 'grub-mkimage is not installed (grub2-common)'
  : !readdirSync('/usr/lib/grub', { withFileTypes: true }).some((d) => d.name === 'i386-pc')
    ? 'GRUB i386-pc modules are not installed (grub-pc-bin)'
    : false;

const LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';

/**
 * A 64 MiB disk image in the tree: GPT with a 1 MiB BIOS boot partition at sector 2048 and an
 * ext4 root at 4096 holding /boot/grub (modules and a grub.cfg that prints `marker` on the serial
 * port), or the same with an MBR and no BIOS boot partition.
 */
function makeDisk(root: TestRoot, label: 'gpt' | 'dos', marker: string): string {
  const image = join(root.tree, 'disk.raw');
  writeFileSync(image, '');
  truncateSync(image, 64 * 1024 * 1024);
  const table =
    label === 'gpt'
      ? `label: gpt\nstart=2048, size=2048, type=${BIOS_BOOT_GUID}\nstart=4096, type=${LINUX}\n`
      : 'label: dos\nstart=4096, type=83\n';
  execFileSync('sfdisk', ['-q', image], { input: table });
  const fs = join(root.dir, 'fs');
  mkdirSync(join(fs, 'boot/grub'), { recursive: true });
  cpSync(MODULES, join(fs, 'boot/grub/i386-pc'), {
    recursive: true,
    filter: (src) => src === MODULES || /\.(mod|lst)$/.test(src),
  });
  writeFileSync(
    join(fs, 'boot/grub/grub.cfg'),
    `serial --unit=0 --speed=115200\nterminal_output serial\necho "${marker} prefix=$prefix root=$root"\nsleep 600\n`,
  );
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${4096 * 512}`, '-d', fs, image, '50M']);
  return image;
}

const prefix = { type: 'partition' as const, partlabel: 'gpt' as const, number: 1, path: '/boot/grub' };
const core = { type: 'mkimage' as const, partlabel: 'gpt' as const, filesystem: 'ext4' as const };

describe('org.osbuild.grub2.inst', { skip }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('names the prefix partition as GRUB does, counting from 1', () => {
    assert.equal(corePrefix(prefix), '(,gpt2)/boot/grub');
    assert.equal(corePrefix({ ...prefix, partlabel: 'dos', number: 0, path: '//boot' }), '(,msdos1)/boot');
    assert.equal(corePrefix({ path: '/boot/grub2' }), '/boot/grub2');
    assert.equal(mkimageBinary(undefined, '/nonexistent'), 'grub-mkimage');
    assert.equal(mkimageBinary('grub2-mkimage', '/nonexistent'), 'grub-mkimage');
    assert.equal(mkimageBinary('/opt/bin/mkimage', '/nonexistent'), '/opt/bin/mkimage');
  });

  it('writes boot.img into the MBR and the core image into the BIOS boot partition', () => {
    const image = makeDisk(root, 'gpt', 'x');
    const before = readFileSync(image);
    const meta = main(
      root.args({ filename: '/../disk.raw', platform: 'i386-pc', location: 2048, core, prefix }),
    );
    assert.equal(meta.prefix, '(,gpt2)/boot/grub');
    assert.deepEqual(meta.modules, ['biosdisk', 'part_gpt', 'ext2']);
    const after = readFileSync(image);

    // MBR: GRUB's boot code with the core's sector patched in, the protective partition table kept.
    const boot = readFileSync(join(MODULES, 'boot.img'));
    assert.deepEqual(after.subarray(0, 0x5c), boot.subarray(0, 0x5c));
    assert.equal(after.readBigUInt64LE(0x5c), 2048n);
    assert.deepEqual(after.subarray(0x64, 440), boot.subarray(0x64, 440));
    assert.deepEqual(after.subarray(440, 512), before.subarray(440, 512));

    // The core image, as grub-mkimage makes it, with its block list pointing after its first sector.
    const reference = join(root.dir, 'core.img');
    execFileSync('grub-mkimage', [
      '-O',
      'i386-pc',
      '-d',
      MODULES,
      '-p',
      '(,gpt2)/boot/grub',
      '-C',
      'auto',
      '-o',
      reference,
      'biosdisk',
      'part_gpt',
      'ext2',
    ]);
    const expected = readFileSync(reference);
    expected.writeBigUInt64LE(2049n, 500);
    assert.equal(meta['core-size'], expected.length);
    assert.deepEqual(after.subarray(2048 * 512, 2048 * 512 + expected.length), expected);

    // Nothing else changed: the GPT, the rest of the BIOS boot partition and the file system.
    assert.deepEqual(after.subarray(512, 2048 * 512), before.subarray(512, 2048 * 512));
    assert.deepEqual(
      after.subarray(2048 * 512 + expected.length),
      before.subarray(2048 * 512 + expected.length),
    );
    assert.equal(
      execFileSync('sfdisk', ['--dump', image], { encoding: 'utf8' }).includes(BIOS_BOOT_GUID),
      true,
    );
  });

  it('refuses to write over the GPT or a partition that is not a BIOS boot partition', () => {
    const image = makeDisk(root, 'gpt', 'x');
    const before = readFileSync(image);
    const args = (location: number) =>
      root.args({ filename: 'disk.raw', platform: 'i386-pc', location, core, prefix });
    assert.throws(() => main(args(4096)), /would overwrite the partition at sectors 4096-/);
    assert.throws(() => main(args(3)), /would overwrite the GPT header and entries/);
    assert.throws(() => main(args(4080)), /would overwrite the partition at sectors 2048-4095 \(type 2168/);
    assert.throws(() => main(args(131070)), /does not fit/);
    assert.deepEqual(readFileSync(image), before);
    assert.throws(
      () => main(root.args({ ...args(2048).options, platform: '../..' })),
      /invalid GRUB platform/,
    );
    assert.throws(
      () => main(root.args({ ...args(2048).options, platform: 'mips-nowhere' })),
      /no GRUB modules for mips-nowhere/,
    );
    assert.throws(
      () => main(root.args({ filename: 'missing.raw', platform: 'i386-pc', location: 2048, core, prefix })),
      /cannot open the image missing.raw/,
    );
  });

  it('replaces the file with the core image when no location is given', () => {
    writeFileSync(join(root.tree, 'prep.img'), 'old');
    main(root.args({ filename: 'prep.img', platform: 'i386-pc', core, prefix: { path: '/grub' } }));
    const data = readFileSync(join(root.tree, 'prep.img'));
    // A core image starts with diskboot.img, which loads the rest of it.
    const diskboot = readFileSync(join(MODULES, 'diskboot.img'));
    assert.ok(data.length > 10_000);
    assert.deepEqual(data.subarray(0, 500), diskboot.subarray(0, 500));
  });

  for (const label of ['gpt', 'dos'] as const) {
    it(`boots GRUB from the image under QEMU's BIOS (${label})`, async (t) => {
      const marker = `FORGE-BIOS-${label}-OK`;
      const image = makeDisk(root, label, marker);
      main(
        root.args({
          filename: 'disk.raw',
          platform: 'i386-pc',
          location: label === 'gpt' ? 2048 : 1,
          core: { ...core, partlabel: label },
          prefix: { ...prefix, partlabel: label, number: label === 'gpt' ? 1 : 0 },
        }),
      );
      const vm = await bootImage({
        image,
        format: 'raw',
        firmware: 'bios',
        memoryMiB: 256,
        cpus: 1,
        name: `grub2.inst-${label}`,
      });
      if ('skipped' in vm) return t.skip(vm.skipped);
      try {
        const m = await vm.waitFor(new RegExp(`${marker} prefix=(\\S+) root=(\\S+)\\n`), 120);
        assert.equal(m[1], label === 'gpt' ? '(hd0,gpt2)/boot/grub' : '(hd0,msdos1)/boot/grub');
      } finally {
        await vm.shutdown();
      }
    });
  }
});
