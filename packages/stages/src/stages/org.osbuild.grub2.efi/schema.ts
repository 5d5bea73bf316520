import { z } from 'zod';
import { defineStage, fsUuid } from '../../shared/define.ts';

export const options = z.strictObject({
  filename: z.string().describe('the disk image in the tree'),
  start: z.int().min(1).describe('first sector of the EFI system partition'),
  size: z.int().min(1).describe('size of the EFI system partition, in sectors'),
  root_fs_uuid: fsUuid.describe('UUID of the root file system, which holds /boot/grub/grub.cfg'),
  boot_fs_uuid: fsUuid
    .optional()
    .describe('UUID of a separate /boot file system; then grub.cfg is looked for as /grub/grub.cfg on it'),
  vendor: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('debian')
    .describe('directory under EFI/ for the second copy of the boot loader'),
  platform: z
    .enum(['x86_64-efi', 'i386-efi', 'arm64-efi'])
    .default('x86_64-efi')
    .describe('GRUB platform of the EFI binary'),
  'sector-size': z.number().default(512).describe('bytes per sector of the disk'),
});

export default defineStage({
  type: 'org.osbuild.grub2.efi',
  summary: 'Write a standalone GRUB EFI boot loader into the EFI system partition of a disk image',
  description: [
    'A Debian Forge stage (OSBuild has none like it): for images whose ESP cannot be mounted where they',
    'are built. It builds one GRUB EFI binary with grub-mkstandalone, every module inside it, whose',
    'built-in configuration loads the partition table and file system modules, finds the root (or',
    '`boot_fs_uuid`) file system by UUID and hands over to its /boot/grub/grub.cfg (/grub/grub.cfg',
    'on a separate boot file system), such as org.osbuild.grub2 writes.',
    'The binary is written, with mtools and no mount, into the FAT file system that starts at sector',
    '`start` of the image file `filename`, as the removable-media path EFI/BOOT/BOOTX64.EFI (BOOTIA32.EFI,',
    'BOOTAA64.EFI on the other platforms), which firmware boots without boot entries, and as',
    'EFI/<vendor>/grubx64.efi (grubia32.efi, grubaa64.efi). The partition must hold a FAT file system',
    'no larger than `size` sectors (make it first, e.g. with org.osbuild.mkfs.fat on a loopback device);',
    'existing files are replaced, others are kept.',
    'The binary is not signed, so it boots only with Secure Boot off.',
    'Build root commands used: `grub-mkstandalone` (Debian packages grub2-common and',
    'grub-efi-amd64-bin, grub-efi-ia32-bin or grub-efi-arm64-bin), `mmd`, `mcopy`, `mdir` (mtools).',
  ],
  options,
});
