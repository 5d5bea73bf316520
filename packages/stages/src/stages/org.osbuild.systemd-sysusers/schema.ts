import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({});

export default defineStage({
  type: 'org.osbuild.systemd-sysusers',
  summary: 'Create the system users and groups the tree declares',
  description: [
    'Runs the build root’s `systemd-sysusers --root` on the tree: the users and groups declared in its',
    'sysusers.d files (/usr/lib/sysusers.d, /etc/sysusers.d) are added to its /etc/passwd, /etc/group,',
    '/etc/shadow and /etc/gshadow where missing. Needs systemd-sysusers in the build root (Debian package',
    'systemd, or systemd-standalone-sysusers).',
  ],
  options,
});
