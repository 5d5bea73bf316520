import { z } from 'zod';
import { defineStage, patternRecord } from '../../shared/define.ts';

export const GROUP_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/;

export const group = z.looseObject({
  gid: z.number().optional().describe('GID of the group; groupadd picks a free one when omitted'),
});

export const options = z.strictObject({
  groups: patternRecord(GROUP_NAME, group)
    .optional()
    .describe('the groups to create: group name → properties'),
  force: z
    .boolean()
    .default(false)
    .describe('succeed when a group exists already, and take another GID when the given one is in use'),
});

export default defineStage({
  type: 'org.osbuild.groups',
  summary: 'Create groups',
  description: [
    "Adds each group of `groups` to the tree's /etc/group and /etc/gshadow with groupadd",
    '--root, with the given GID or one groupadd chooses. A group name or GID in use already is',
    'an error, unless `force` is set.',
    'Build root commands used: `groupadd` (Debian package passwd).',
  ],
  options,
  devices: { type: 'object', additionalProperties: true },
  mounts: { type: 'array' },
});
