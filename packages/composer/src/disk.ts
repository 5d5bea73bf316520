/**
 * The bootable disk: a GPT with a BIOS boot partition, an EFI system partition and an ext4 root,
 * filled from the `os` tree without ever needing partition device nodes (each partition is a loop
 * device at its offset) or a vfat mount (the ESP is written with mtools). GRUB boots it under BIOS
 * (core image in the BIOS boot partition) and UEFI (a standalone EFI binary on the ESP), and finds
 * the root by file system UUID, never by a device name.
 */
import type { StageDesc } from './customizations.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { ImageTypeContext, PipelineDesc } from './image-type.ts';
import { seededUuid, seededVolid } from './uuids.ts';

const SECTOR = 512;
const MiB_SECTORS = (1024 * 1024) / SECTOR;

/** Partition types (GPT GUIDs). */
const BIOS_BOOT = '21686148-6449-6E6F-744E-656564454649';
const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const LINUX_ROOT_X86_64 = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';

export interface DiskLayout {
  sectors: number;
  bios: { start: number; size: number };
  esp: { start: number; size: number };
  root: { start: number; size: number };
}

/** Partition offsets and sizes (in sectors) for an image of `bytes`. */
export function diskLayout(bytes: number): DiskLayout {
  const sectors = Math.floor(bytes / SECTOR);
  const bios = { start: 2048, size: MiB_SECTORS };
  const esp = { start: bios.start + bios.size, size: 200 * MiB_SECTORS };
  const rootStart = esp.start + esp.size;
  // Leave room for the backup GPT at the end (33 sectors), aligned down to 1 MiB.
  const rootSize = Math.floor((sectors - rootStart - 34) / MiB_SECTORS) * MiB_SECTORS;
  if (rootSize < 64 * MiB_SECTORS) {
    const need = Math.ceil(((rootStart + 64 * MiB_SECTORS + 34) * SECTOR) / 1024 ** 2);
    throw new ComposerError(
      ComposerErrorCode.Size,
      `a disk of ${bytes} bytes is too small: the boot partitions take ${Math.ceil((rootStart * SECTOR) / 1024 ** 2)} MiB and the root file system needs at least 64 MiB (at least ${need} MiB in all)`,
    );
  }
  return { sectors, bios, esp, root: { start: rootStart, size: rootSize } };
}

const loop = (start: number, size: number) => ({
  type: 'org.osbuild.loopback',
  options: { filename: 'disk.raw', start, size },
});

/** The kernel's consoles (screen and first serial port) and the blueprint's arguments. */
export function kernelOptions(ctx: ImageTypeContext): string[] {
  return ['console=tty0', 'console=ttyS0,115200n8', ...ctx.kernelAppend.split(/\s+/)].filter(Boolean);
}

/** The UUID of the root file system of a disk made with `seed`. */
export function rootFsUuid(seed: string): string {
  return seededUuid(seed, 'root-fs');
}

/**
 * The stages that boot the `os` tree from the disk, and the `image` pipeline: the disk, its file
 * systems filled from the tree of the pipeline `tree` (default `os`) and GRUB's boot code.
 */
export function diskPipelines(
  ctx: ImageTypeContext,
  tree = 'os',
): { osStages: StageDesc[]; image: PipelineDesc } {
  const layout = diskLayout(ctx.size);
  const rootUuid = rootFsUuid(ctx.seed);
  const volid = seededVolid(ctx.seed, 'esp-fs');
  const espUuid = `${volid.slice(0, 4)}-${volid.slice(4)}`.toUpperCase();
  const kernelOpts = kernelOptions(ctx).join(' ');

  const osStages: StageDesc[] = [
    {
      type: 'org.osbuild.fstab',
      options: {
        filesystems: [
          { uuid: rootUuid, vfs_type: 'ext4', path: '/', options: 'errors=remount-ro', passno: 1 },
          { uuid: espUuid, vfs_type: 'vfat', path: '/boot/efi', options: 'umask=0077', passno: 2 },
        ],
      },
    },
    {
      type: 'org.osbuild.grub2',
      options: {
        root_fs_uuid: rootUuid,
        kernel_opts: kernelOpts,
        legacy: 'i386-pc',
        uefi: { vendor: 'debian' },
        config: {
          timeout: 1,
          terminal_input: ['serial', 'console'],
          terminal_output: ['serial', 'console'],
          serial: 'serial --speed=115200',
        },
      },
    },
  ];

  const image: PipelineDesc = {
    name: 'image',
    stages: [
      {
        type: 'org.osbuild.truncate',
        options: { filename: 'disk.raw', size: String(layout.sectors * SECTOR) },
      },
      {
        type: 'org.osbuild.sfdisk',
        devices: { device: { type: 'org.osbuild.loopback', options: { filename: 'disk.raw' } } },
        options: {
          label: 'gpt',
          uuid: seededUuid(ctx.seed, 'partition-table'),
          partitions: [
            { ...layout.bios, type: BIOS_BOOT, name: 'bios-boot', uuid: seededUuid(ctx.seed, 'bios-part') },
            { ...layout.esp, type: ESP, name: 'esp', uuid: seededUuid(ctx.seed, 'esp-part') },
            {
              ...layout.root,
              type: LINUX_ROOT_X86_64,
              name: 'root',
              uuid: seededUuid(ctx.seed, 'root-part'),
            },
          ],
        },
      },
      {
        type: 'org.osbuild.mkfs.fat',
        devices: { device: loop(layout.esp.start, layout.esp.size) },
        options: { volid, label: 'ESP', 'fat-size': 32 },
      },
      {
        type: 'org.osbuild.mkfs.ext4',
        devices: { device: loop(layout.root.start, layout.root.size) },
        options: { uuid: rootUuid, label: 'root' },
      },
      {
        type: 'org.osbuild.copy',
        inputs: {
          'root-tree': {
            type: 'org.osbuild.tree',
            origin: 'org.osbuild.pipeline',
            references: [`name:${tree}`],
          },
        },
        devices: { root: loop(layout.root.start, layout.root.size) },
        mounts: [{ name: 'root', type: 'org.osbuild.ext4', source: 'root', target: '/' }],
        options: { paths: [{ from: 'input://root-tree/', to: 'mount://root/' }] },
      },
      {
        type: 'org.osbuild.grub2.inst',
        options: {
          filename: 'disk.raw',
          platform: 'i386-pc',
          location: layout.bios.start,
          core: { type: 'mkimage', partlabel: 'gpt', filesystem: 'ext4' },
          prefix: { type: 'partition', partlabel: 'gpt', number: 2, path: '/boot/grub' },
        },
      },
      {
        type: 'org.osbuild.grub2.efi',
        options: {
          filename: 'disk.raw',
          start: layout.esp.start,
          size: layout.esp.size,
          root_fs_uuid: rootUuid,
          vendor: 'debian',
        },
      },
    ],
  };
  return { osStages, image };
}

/** The `qcow2` pipeline: the raw disk of the `image` pipeline converted to qcow2. */
export function qcow2Pipeline(): PipelineDesc {
  return {
    name: 'qcow2',
    stages: [
      {
        type: 'org.osbuild.qemu',
        inputs: {
          image: {
            type: 'org.osbuild.files',
            origin: 'org.osbuild.pipeline',
            references: { 'name:image': { file: 'disk.raw' } },
          },
        },
        options: { filename: 'disk.qcow2', format: { type: 'qcow2', compat: '1.1' } },
      },
    ],
  };
}
