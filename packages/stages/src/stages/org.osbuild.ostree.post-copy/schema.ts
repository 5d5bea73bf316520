import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  sysroot: z
    .string()
    .regex(/^\/(?!\.\.)((?!\/\.\.\/).)+$/)
    .optional()
    .describe('the system root inside the mounts, when it is not their root'),
});

export default defineStage({
  type: 'org.osbuild.ostree.post-copy',
  summary: 'Apply post-copy updates to an ostree repo/deployment',
  description: [
    'Run after an OSTree system root was copied file by file onto its final file system (the mounts',
    'of the stage; `sysroot` names it inside them), to restore what such a copy loses. OSBuild runs',
    '`ostree admin post-copy`, which Debian 12’s ostree 2022.7 lacks, so this stage does its work',
    'itself, as ostree 2023.11’s `ostree_sysroot_update_post_copy` does: when the repository',
    'config asks for fs-verity (`[integrity] fsverity` yes or maybe, implied maybe by',
    '`[integrity] composefs`; or the older `[ex-fsverity] required` / `opportunistic`), fs-verity',
    '(SHA-256, 4096-byte blocks, no salt) is enabled with `fsverity enable` on every regular file',
    'among the loose objects of /ostree/repo and on each deployment’s .ostree.cfs; it stops at the',
    'first file the file system cannot protect, which is an error only when fs-verity is required.',
    'One more fix-up that ostree’s command does not make: the immutable attribute that `ostree admin',
    'deploy` sets on each deployment directory (chattr +i) is set again, since copies such as',
    '`cp -a` and `mkfs.ext4 -d` drop it.',
  ],
  options,
  devices: { type: 'object', additionalProperties: true },
  mounts: { type: 'array' },
});
