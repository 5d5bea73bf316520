import { z } from 'zod';
import { defineStage, requiredDevice } from '../../shared/define.ts';

export const partition = z
  .looseObject({
    bootable: z.boolean().optional().describe('set the bootable flag (dos tables)'),
    name: z.string().optional().describe('partition name (gpt tables)'),
    partnum: z.int().optional().describe('put this entry at this partition number'),
    size: z.int().optional().describe('size in 512-byte sectors; sfdisk fills the free space when omitted'),
    start: z
      .int()
      .optional()
      .describe('first 512-byte sector; sfdisk picks the next aligned one when omitted'),
    type: z.string().optional().describe('partition type: a GUID for gpt, a hex code such as 83 for dos'),
    uuid: z.string().optional().describe('partition UUID (gpt tables)'),
    attrs: z
      .array(z.int().min(0).max(63))
      .max(64)
      .meta({ uniqueItems: true })
      .optional()
      .describe(
        'gpt attribute bits to set: 0, 1 and 2 are the named UEFI bits, 48 to 63 the type-specific ones',
      ),
  })
  .describe('one partition');

export const options = z.strictObject({
  uuid: z.string().describe('identifier of the partition table: a GUID for gpt, 0xXXXXXXXX for dos'),
  label: z.enum(['mbr', 'dos', 'gpt']).describe('type of the partition table (mbr is the same as dos)'),
  partitions: z.array(partition).optional().describe('the partitions, in table order'),
});

export default defineStage({
  type: 'org.osbuild.sfdisk',
  summary: 'Write a partition table to a device with sfdisk(8)',
  description: [
    'Builds an sfdisk script from `label`, `uuid` and `partitions` and writes it to the device',
    'named `device`, replacing whatever table it held. Start and size are in 512-byte sectors;',
    'fields left out (or zero) are chosen by sfdisk. The resulting table is printed as JSON.',
    'The kernel is not asked to re-read the table, so this works on plain image files as well as',
    'on loop devices.',
    'Build root commands used: `sfdisk` (Debian package fdisk).',
  ],
  options,
  devices: requiredDevice('device'),
});
