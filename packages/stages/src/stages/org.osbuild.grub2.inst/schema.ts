import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

const partlabel = z.enum(['gpt', 'dos']);

const coreMkimage = z
  .strictObject({
    type: z.literal('mkimage'),
    partlabel: partlabel.describe('partition table the core image must read: gpt or dos (MBR)'),
    filesystem: z
      .enum(['ext4', 'xfs', 'btrfs', 'iso9660'])
      .describe('file system holding the prefix directory; iso9660 makes an El Torito image'),
    binary: z
      .string()
      .optional()
      .describe(
        "the grub-mkimage program; Debian's name grub-mkimage is used when omitted, and OSBuild's grub2-mkimage falls back to it",
      ),
  })
  .describe('build the core image with grub-mkimage from the modules of the build root');

const prefixPartition = z
  .strictObject({
    type: z.literal('partition'),
    partlabel: partlabel.describe('partition table type: gpt or dos'),
    number: z.number().describe('index of the partition holding the prefix, counted from 0'),
    path: z.string().regex(/\/.*/).describe('the GRUB directory inside that partition, e.g. /boot/grub'),
  })
  .describe('the GRUB directory on a partition of the boot disk, e.g. (,gpt3)/boot/grub');

const prefixPath = z
  .strictObject({
    path: z.string().regex(/\/.*/).describe('the GRUB directory on the boot device, e.g. /boot/grub'),
  })
  .describe('the GRUB directory as a plain path on the boot device (for iso9660)');

export const options = z.strictObject({
  filename: z.string().describe('the disk image in the tree'),
  platform: z.string().describe('GRUB platform, i386-pc for BIOS PCs'),
  location: z
    .int()
    .optional()
    .describe(
      'sector where the core image is written; omitted, the file `filename` is replaced by the core image',
    ),
  core: z.xor([coreMkimage]).describe('how the core image is made'),
  prefix: z.xor([prefixPartition, prefixPath]).describe('where GRUB finds its modules and grub.cfg'),
  'sector-size': z.number().default(512).describe('bytes per sector of the disk'),
});

export default defineStage({
  type: 'org.osbuild.grub2.inst',
  summary: 'Write GRUB for BIOS boot into a disk image',
  description: [
    "Makes GRUB's core image with grub-mkimage (the modules to read the partition table and the file",
    'system of `prefix`, plus biosdisk on i386-pc) and writes it into the image file `filename` at',
    'sector `location`: the gap after the MBR, or a BIOS boot partition of a GPT disk (type',
    '21686148-6449-6E6F-744E-656564454649). On i386-pc the first 440 bytes of boot.img go into the MBR',
    'too, keeping the partition table, patched with the sector of the core image; a core image outside',
    "the first 512 bytes gets its own first sector's block list patched to point at the rest of it.",
    'Before writing, the partition table of the image is read: a core image that would overlap the GPT',
    'or a partition other than a BIOS boot partition is refused.',
    'Without `location`, the core image replaces `filename` as it is (e.g. for a PReP partition).',
    'The prefix `(,gptN)/path` has no disk name, so GRUB looks on the disk it was booted from.',
    'Modules and boot.img come from /usr/lib/grub/<platform> of the build root.',
    'Build root commands used: `grub-mkimage` (Debian package grub-pc-bin for i386-pc, grub2-common).',
  ],
  options,
});
