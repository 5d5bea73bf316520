import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  language: z.string().describe('the locale for LANG, such as en_US.UTF-8'),
});

export default defineStage({
  type: 'org.osbuild.locale',
  summary: 'Set the system locale',
  description: [
    'Sets LANG=`language` in /etc/locale.conf (read by systemd) and /etc/default/locale (read by',
    'Debian’s PAM environment and update-locale), replacing both files.',
    'The name is checked as systemd-firstboot checks it (one path component, no control characters,',
    'quotes or backslashes); whether the locale is generated in the image is not checked. The files are',
    'written directly rather than by running `systemd-firstboot --root`, so the build root needs no',
    'systemd.',
  ],
  options,
});
