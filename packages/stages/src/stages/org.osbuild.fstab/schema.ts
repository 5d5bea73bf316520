import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { deployment as ostreeDeployment } from '../../shared/ostree.ts';

export const filesystem = z
  .looseObject({
    device: z.string().optional().describe('device node, written as it is'),
    uuid: z.string().optional().describe('file system UUID, written as UUID=…'),
    label: z.string().optional().describe('file system label, written as LABEL=…'),
    partlabel: z.string().optional().describe('partition label, written as PARTLABEL=…'),
    path: z.string().describe('mount point'),
    vfs_type: z.string().default('none').describe('file system type'),
    options: z.string().default('defaults').describe('mount options, comma-separated'),
    freq: z.number().default(0).describe('dump(8) frequency in days'),
    passno: z.number().default(0).describe('fsck(8) pass number'),
  })
  .meta({
    // exactly one way to name the file system, as OSBuild's schema demands
    oneOf: ['device', 'uuid', 'label', 'partlabel'].map((spec) => ({ required: [spec, 'path'] })),
  })
  .describe('one file system');

const deployment = ostreeDeployment.describe('the ostree deployment whose /etc/fstab is written');

export const options = z.strictObject({
  filesystems: z.array(filesystem).describe('the file systems, in mount order'),
  ostree: z
    .strictObject({ deployment })
    .optional()
    .describe('write the fstab of an ostree deployment in the tree instead of /etc/fstab'),
});

export default defineStage({
  type: 'org.osbuild.fstab',
  summary: 'Write /etc/fstab',
  description: [
    'Replaces /etc/fstab with one line per entry of `filesystems`. The first field is UUID=,',
    'LABEL= or PARTLABEL= of `uuid`, `label` or `partlabel`, or else `device`; then the mount',
    'point, the type (default none), the options (default defaults), freq and passno (default 0).',
    'With `ostree.deployment`, the file written is the /etc/fstab of that deployment',
    '(ostree/deploy/<osname>/deploy/<commit>.<serial>); a ref is resolved by reading the refs of',
    'the ostree/repo in the tree, or `default: true` picks the only deployment there.',
  ],
  options,
});
