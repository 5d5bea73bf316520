import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  'generate-on-boot': z
    .boolean()
    .default(true)
    .describe('install a unit that creates missing host keys (ssh-keygen -A) before the SSH server starts'),
});

export default defineStage({
  type: 'org.osbuild.sshd.host-keys',
  summary: 'Remove SSH host keys from the image',
  description: [
    'Deletes the SSH host keys that installing openssh-server generated at build time, so no two',
    'machines made from one image share a key and the image stays byte-for-byte reproducible.',
    'By default it adds a unit that runs `ssh-keygen -A` at first boot, before the SSH server.',
  ],
  options,
});
