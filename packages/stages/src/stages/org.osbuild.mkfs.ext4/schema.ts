import { z } from 'zod';
import { defineStage, requiredDevice } from '../../shared/define.ts';

export const options = z.strictObject({
  uuid: z.string().describe('UUID of the new file system'),
  label: z.string().max(16).optional().describe('file system label'),
  lazy_init: z
    .boolean()
    .optional()
    .describe('turn lazy inode table and journal initialisation on or off (mke2fs default when omitted)'),
  metadata_csum_seed: z.boolean().optional().describe('turn the metadata_csum_seed feature on or off'),
  orphan_file: z.boolean().optional().describe('turn the orphan_file feature on or off'),
  verity: z.boolean().optional().describe('turn fs-verity support on or off'),
});

export default defineStage({
  type: 'org.osbuild.mkfs.ext4',
  summary: 'Create an ext4 file system with mkfs.ext4(8)',
  description: [
    'Creates an ext4 file system on the device named `device`, with the given UUID and label.',
    'The feature options switch the named ext4 feature on (true) or off (false); an option left',
    "out keeps mke2fs's default, which comes from the build root's /etc/mke2fs.conf when it has",
    'one.',
    'Build root commands used: `mkfs.ext4` (Debian package e2fsprogs).',
  ],
  options,
  devices: requiredDevice('device'),
});
