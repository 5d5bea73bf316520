import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  repo: z.string().describe('the repository in the tree to pull into, such as /ostree/repo'),
  remote: z.string().optional().describe('record the refs under this remote (`REMOTE:REF`)'),
});

export default defineStage({
  type: 'org.osbuild.ostree.pull',
  summary: 'Pull commits from an input into a repository in the tree',
  description: [
    'For each commit of the input `commits` (an org.osbuild.ostree input), runs `ostree pull-local` from',
    'the input’s repository into `repo` of the tree, by the ref the input gave the commit or else by',
    'its id. With `remote`, the ref is recorded as belonging to that remote, so a deployment of',
    '`REMOTE:REF` can later be upgraded from it.',
  ],
  capabilities: ['CAP_MAC_ADMIN'],
  options,
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['commits'],
    properties: { commits: { type: 'object', additionalProperties: true } },
  },
});
