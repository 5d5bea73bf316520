import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** File names of the boot loader per platform: the removable-media path and the vendor copy. */
const NAMES: Record<string, { removable: string; vendor: string }> = {
  'x86_64-efi': { removable: 'BOOTX64.EFI', vendor: 'grubx64.efi' },
  'i386-efi': { removable: 'BOOTIA32.EFI', vendor: 'grubia32.efi' },
  'arm64-efi': { removable: 'BOOTAA64.EFI', vendor: 'grubaa64.efi' },
};

/** The configuration built into the binary: find the file system holding grub.cfg and read it. */
export function earlyConfig(o: Pick<Options, 'root_fs_uuid' | 'boot_fs_uuid'>): string {
  const uuid = o.boot_fs_uuid ?? o.root_fs_uuid;
  const cfg = o.boot_fs_uuid ? '/grub/grub.cfg' : '/boot/grub/grub.cfg';
  return [
    '# Built into the EFI binary by org.osbuild.grub2.efi',
    'insmod part_gpt',
    'insmod part_msdos',
    'insmod ext2',
    'insmod xfs',
    'insmod btrfs',
    `if search --no-floppy --fs-uuid --set=root ${uuid}; then`,
    `  configfile ($root)${cfg}`,
    'else',
    `  echo "no file system with UUID ${uuid}: cannot read ${cfg}"`,
    'fi',
    '',
  ].join('\n');
}

/**
 * Checks that a FAT file system starts at byte `offset` of the open image and fits in `bytes`;
 * returns its FAT type and size in bytes.
 */
export function checkFat(fd: number, offset: number, bytes: number): { type: string; size: number } {
  const bs = Buffer.alloc(512);
  if (readSync(fd, bs, 0, 512, offset) < 512 || bs.readUInt16LE(510) !== 0xaa55) {
    throw new StageError(`no FAT file system at byte ${offset} of the image (make one first)`);
  }
  const type = bs.toString('latin1', 82, 90).startsWith('FAT32')
    ? 'FAT32'
    : bs.toString('latin1', 54, 62).trim();
  if (!/^FAT(12|16)?$/.test(type) && type !== 'FAT32') {
    throw new StageError(`no FAT file system at byte ${offset} of the image (make one first)`);
  }
  const bytesPerSector = bs.readUInt16LE(11);
  const sectors = bs.readUInt16LE(19) || bs.readUInt32LE(32);
  const size = bytesPerSector * sectors;
  if (size > bytes) {
    throw new StageError(
      `the FAT file system at byte ${offset} is ${size} bytes, larger than the partition (${bytes})`,
    );
  }
  return { type, size };
}

export function main(args: StageArguments<Options>): Record<string, unknown> {
  const o = args.options;
  const platform = o.platform ?? 'x86_64-efi';
  const names = NAMES[platform];
  if (!names) throw new StageError(`unsupported platform '${platform}'`);
  if (!existsSync(`/usr/lib/grub/${platform}`)) {
    throw new StageError(`the build root has no GRUB modules for ${platform} (/usr/lib/grub/${platform})`);
  }
  const vendor = o.vendor ?? 'debian';
  const sectorSize = o['sector-size'] ?? 512;
  const image = inRoot(args.tree, o.filename);
  const offset = o.start * sectorSize;

  let fd: number;
  try {
    fd = openSync(image, 'r');
  } catch (err) {
    throw new StageError(`cannot open the image ${o.filename}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let fat: { type: string; size: number };
  try {
    if ((o.start + o.size) * sectorSize > fstatSync(fd).size) {
      throw new StageError(`sectors ${o.start}-${o.start + o.size - 1} lie beyond the end of ${o.filename}`);
    }
    fat = checkFat(fd, offset, o.size * sectorSize);
  } finally {
    closeSync(fd);
  }

  const work = mkdtempSync(join(tmpdir(), 'grub2-efi-'));
  try {
    const early = join(work, 'grub.cfg');
    writeFileSync(early, earlyConfig(o));
    const binary = join(work, names.removable);
    exec([
      'grub-mkstandalone',
      '--format',
      platform,
      '--output',
      binary,
      '--locales=',
      '--fonts=',
      '--themes=',
      `boot/grub/grub.cfg=${early}`,
    ]);

    // The files as they go into the ESP, copied in one go: mcopy -s creates missing directories,
    // merges into existing ones and (-o) replaces files of the same name.
    const stage = join(work, 'esp');
    const written = [`/EFI/BOOT/${names.removable}`, `/EFI/${vendor}/${names.vendor}`];
    for (const target of written) {
      mkdirSync(join(stage, dirname(target)), { recursive: true });
      copyFileSync(binary, join(stage, target));
    }
    exec(['mcopy', '-s', '-o', '-i', `${image}@@${offset}`, join(stage, 'EFI'), '::/'], {
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
    });
    return { fat: fat.type, files: written, config: earlyConfig(o) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
