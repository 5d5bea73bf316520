import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  osname: z.string().describe('the stateroot of the deployment (see org.osbuild.ostree.os-init)'),
  ref: z.string().optional().describe('the ref to deploy when no input gives the commit'),
  remote: z.string().optional().describe('the remote the ref belongs to (`REMOTE:REF`)'),
  mounts: z
    .array(z.string())
    .optional()
    .describe('directories of the tree that are mount points of the final system, such as /boot'),
  kernel_opts: z.array(z.string()).optional().describe('kernel command line arguments of the boot entry'),
  rootfs: z
    .object({
      label: z.string().optional().describe('find the root file system by its label'),
      uuid: z.string().optional().describe('find the root file system by its UUID'),
    })
    .meta({ oneOf: [{ required: ['uuid'] }, { required: ['label'] }] })
    .optional()
    .describe('how the kernel finds the root file system (`root=UUID=…` or `root=LABEL=…`)'),
});

export default defineStage({
  type: 'org.osbuild.ostree.deploy',
  summary: 'Deploy an OSTree commit into the system root',
  description: [
    'Runs `ostree admin deploy` with the tree as system root (org.osbuild.ostree.init-fs and os-init',
    'first) for the stateroot `osname`. The commit comes from the input `commits` (pulled into',
    '/ostree/repo by its ref, under `remote` when given) or else is `ref` in /ostree/repo.',
    '`rootfs` and then `kernel_opts` become kernel arguments of the boot entry (`--karg-append`).',
    'Each directory in `mounts` is bind-mounted onto itself while ostree runs, in a namespace of its',
    'own, so ostree sees the separate file systems the booted system will have.',
    'ostree makes the deployment directory immutable (chattr +i).',
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
