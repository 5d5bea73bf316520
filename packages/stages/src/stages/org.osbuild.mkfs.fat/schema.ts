import { z } from 'zod';
import { defineStage, requiredDevice } from '../../shared/define.ts';

export const options = z.strictObject({
  volid: z.string().describe('volume id: 8 hexadecimal digits, the FAT counterpart of a UUID'),
  label: z.string().max(11).optional().describe('volume label'),
  'fat-size': z
    .literal([12, 16, 32])
    .optional()
    .describe('bits per file allocation table entry; mkfs.fat picks one by size when omitted'),
  geometry: z
    .strictObject({
      heads: z.int().describe('number of heads'),
      'sectors-per-track': z.int().describe('number of sectors per track'),
    })
    .optional()
    .describe('disk geometry recorded in the boot sector'),
});

export default defineStage({
  type: 'org.osbuild.mkfs.fat',
  summary: 'Create a FAT file system with mkfs.fat(8)',
  description: [
    'Creates a FAT file system on the device named `device`, with the given volume id and label.',
    'mkfs.fat runs with -I, so a whole device is formatted even when it seems to hold a partition',
    'table (which may be stale on a loop device).',
    'Build root commands used: `mkfs.fat` (Debian package dosfstools).',
  ],
  options,
  devices: requiredDevice('device'),
});
