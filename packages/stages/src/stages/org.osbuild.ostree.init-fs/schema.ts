import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({});

export default defineStage({
  type: 'org.osbuild.ostree.init-fs',
  summary: 'Make the tree an empty OSTree system root',
  description: [
    'Runs `ostree admin init-fs --modern` on the tree: an empty /boot and a bare repository at',
    '/ostree/repo, ready for org.osbuild.ostree.os-init, org.osbuild.ostree.pull and a deployment.',
  ],
  options,
});
