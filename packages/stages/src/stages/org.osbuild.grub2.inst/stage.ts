import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** Type GUID of a GPT BIOS boot partition, where GRUB's core image lives on GPT disks. */
export const BIOS_BOOT_GUID = '21686148-6449-6E6F-744E-656564454649';

/** Offset in boot.img of the 64-bit sector number of the core image (GRUB_BOOT_MACHINE_KERNEL_SECTOR). */
const BOOT_KERNEL_SECTOR = 0x5c;
/** Bytes of boot.img that are code; the rest of the MBR (disk signature, partition table) is kept. */
const BOOT_CODE_SIZE = 440;
/** Offset in the first sector of the core image of its block list's start sector (0x200 - 12). */
const CORE_BLOCKLIST_START = 500;

/** The GRUB name of a partition table label. */
function grubLabel(label: 'gpt' | 'dos'): string {
  return label === 'gpt' ? 'gpt' : 'msdos';
}

/** The `--prefix` of the core image. */
export function corePrefix(prefix: Options['prefix']): string {
  if ('number' in prefix) {
    return `(,${grubLabel(prefix.partlabel)}${prefix.number + 1})/${prefix.path.replace(/^\/+/, '')}`;
  }
  return prefix.path;
}

/** The modules the core image needs to reach the prefix. */
export function coreModules(platform: string, core: Options['core']): { modules: string[]; format: string } {
  const modules = platform === 'i386-pc' ? ['biosdisk'] : [];
  modules.push(core.partlabel === 'gpt' ? 'part_gpt' : 'part_msdos');
  let format = platform;
  const fs = { ext4: 'ext2', xfs: 'xfs', btrfs: 'btrfs', iso9660: 'iso9660' }[core.filesystem];
  if (!fs) throw new StageError(`unknown file system '${core.filesystem}'`);
  modules.push(fs);
  if (core.filesystem === 'iso9660') format = 'i386-pc-eltorito';
  return { modules, format };
}

/**
 * The grub-mkimage program. Debian calls it grub-mkimage; OSBuild's default name grub2-mkimage is
 * used only when the build root has it.
 */
export function mkimageBinary(
  binary: string | undefined,
  path = process.env.PATH ?? '/usr/bin:/usr/sbin',
): string {
  if (binary !== undefined && binary !== 'grub2-mkimage') return binary;
  const found = path.split(':').some((dir) => dir !== '' && existsSync(join(dir, 'grub2-mkimage')));
  return binary === 'grub2-mkimage' && found ? binary : 'grub-mkimage';
}

export interface Partition {
  start: number;
  end: number;
  type: string;
}

function guidAt(buf: Buffer, offset: number): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const bytes = [...buf.subarray(offset + from, offset + to)];
    return (reverse ? bytes.reverse() : bytes).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)]
    .join('-')
    .toUpperCase();
}

/**
 * The partition table of the image: GPT (with the sectors it occupies itself as a reserved
 * range), MBR, or none. Sector numbers are in units of `sectorSize`.
 */
export function readPartitions(fd: number, sectorSize: number): { label: string; parts: Partition[] } {
  const mbr = Buffer.alloc(512);
  readSync(fd, mbr, 0, 512, 0);
  if (mbr.readUInt16LE(510) !== 0xaa55) return { label: 'none', parts: [] };
  const header = Buffer.alloc(92);
  readSync(fd, header, 0, 92, sectorSize);
  if (header.toString('latin1', 0, 8) === 'EFI PART') {
    const entriesLba = Number(header.readBigUInt64LE(72));
    const count = header.readUInt32LE(80);
    const size = header.readUInt32LE(84);
    const entries = Buffer.alloc(count * size);
    readSync(fd, entries, 0, entries.length, entriesLba * sectorSize);
    const entriesEnd = entriesLba + Math.ceil((count * size) / sectorSize) - 1;
    const parts: Partition[] = [{ start: 0, end: entriesEnd, type: 'gpt-header' }];
    for (let i = 0; i < count; i++) {
      const type = guidAt(entries, i * size);
      if (type === '00000000-0000-0000-0000-000000000000') continue;
      const start = Number(entries.readBigUInt64LE(i * size + 32));
      const end = Number(entries.readBigUInt64LE(i * size + 40));
      parts.push({ start, end, type });
    }
    return { label: 'gpt', parts };
  }
  const parts: Partition[] = [];
  for (let i = 0; i < 4; i++) {
    const entry = 446 + i * 16;
    const type = mbr[entry + 4] ?? 0;
    const start = mbr.readUInt32LE(entry + 8);
    const count = mbr.readUInt32LE(entry + 12);
    if (type === 0 || count === 0) continue;
    parts.push({ start, end: start + count - 1, type: `0x${type.toString(16).padStart(2, '0')}` });
  }
  return { label: 'dos', parts };
}

/** Refuses a core image at [first, last] that would overwrite the partition table or a partition. */
export function checkPlacement(parts: Partition[], first: number, last: number): void {
  for (const p of parts) {
    if (last < p.start || first > p.end) continue;
    if (p.type === BIOS_BOOT_GUID && first >= p.start && last <= p.end) continue;
    const what =
      p.type === 'gpt-header'
        ? 'the GPT header and entries'
        : `the partition at sectors ${p.start}-${p.end} (type ${p.type})`;
    throw new StageError(`the core image at sectors ${first}-${last} would overwrite ${what}`);
  }
}

export function main(args: StageArguments<Options>): Record<string, unknown> {
  const o = args.options;
  const sectorSize = o['sector-size'] ?? 512;
  const image = inRoot(args.tree, o.filename);
  if (!/^[a-z0-9_-]+$/.test(o.platform)) throw new StageError(`invalid GRUB platform '${o.platform}'`);
  const moduleDir = `/usr/lib/grub/${o.platform}`;
  if (!existsSync(moduleDir)) {
    throw new StageError(`the build root has no GRUB modules for ${o.platform} (${moduleDir})`);
  }
  const prefix = corePrefix(o.prefix);
  const { modules, format } = coreModules(o.platform, o.core);
  const work = mkdtempSync(join(tmpdir(), 'grub2-inst-'));
  try {
    const core = join(work, 'core.img');
    exec([
      mkimageBinary(o.core.binary),
      '--directory',
      moduleDir,
      '--prefix',
      prefix,
      '--format',
      format,
      '--compression',
      'auto',
      '--output',
      core,
      ...modules,
    ]);
    const coreData = readFileSync(core);
    if (o.location === undefined || o.location === 0) {
      copyFileSync(core, image);
      return { prefix, modules, 'core-size': coreData.length };
    }
    const location = o.location;
    let fd: number;
    try {
      fd = openSync(image, 'r+');
    } catch (err) {
      throw new StageError(`cannot open the image ${o.filename}: ${(err as NodeJS.ErrnoException).code}`);
    }
    try {
      const sectors = Math.ceil(coreData.length / sectorSize);
      const last = location + sectors - 1;
      if ((last + 1) * sectorSize > fstatSync(fd).size) {
        throw new StageError(`the core image at sectors ${location}-${last} does not fit in ${o.filename}`);
      }
      const table = readPartitions(fd, sectorSize);
      checkPlacement(table.parts, location, last);
      if (o.platform === 'i386-pc' && location * sectorSize > 512) {
        // The core's first sector loads the rest of it from the sectors its block list names.
        coreData.writeBigUInt64LE(BigInt(location + 1), CORE_BLOCKLIST_START);
      }
      writeSync(fd, coreData, 0, coreData.length, location * sectorSize);
      if (o.platform === 'i386-pc') {
        const boot = readFileSync(join(moduleDir, 'boot.img'));
        const code = Buffer.from(boot.subarray(0, BOOT_CODE_SIZE));
        code.writeBigUInt64LE(BigInt(location), BOOT_KERNEL_SECTOR);
        writeSync(fd, code, 0, code.length, 0);
      }
      return { prefix, modules, 'core-size': coreData.length, location, 'partition-table': table.label };
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
