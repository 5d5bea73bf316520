import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  osname: z.string().describe('the name of the stateroot that deployments will use'),
});

export default defineStage({
  type: 'org.osbuild.ostree.os-init',
  summary: 'Create an OSTree stateroot in the system root',
  description: [
    'Runs `ostree admin os-init OSNAME` with the tree as system root (made by',
    'org.osbuild.ostree.init-fs): /ostree/deploy/OSNAME with its own /var, which deployments of that',
    'name share.',
  ],
  options,
});
