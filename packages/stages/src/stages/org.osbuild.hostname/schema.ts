import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  hostname: z.string().describe('the static host name of the system'),
});

export default defineStage({
  type: 'org.osbuild.hostname',
  summary: 'Set the host name',
  description: [
    'Writes `hostname` to /etc/hostname in the tree, replacing the file that is there.',
    'The name is checked as systemd-firstboot checks it (at most 64 characters, dot-separated labels of',
    'letters, digits, `-` and `_`; a trailing dot is dropped). The file is written directly rather than',
    'by running `systemd-firstboot --root`, so the build root needs no systemd. As debian-installer',
    'does, the name also goes on the 127.0.1.1 line of /etc/hosts when the tree has that file.',
  ],
  options,
});
