import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  zone: z.string().describe('a tz database zone, such as Europe/Berlin or UTC'),
});

export default defineStage({
  type: 'org.osbuild.timezone',
  summary: 'Set the time zone',
  description: [
    'Points /etc/localtime at ../usr/share/zoneinfo/`zone` (a relative symbolic link, as systemd makes',
    'it) and writes `zone` to /etc/timezone, which Debian’s tzdata reads; existing files are replaced.',
    'The zone is checked as systemd-firstboot checks it: letters, digits, `-`, `_`, `+` and single `/`',
    'separators, naming a TZif file under /usr/share/zoneinfo (of the tree, else of the build root; UTC',
    'is always accepted). The files are written directly rather than by running',
    '`systemd-firstboot --root`, so the build root needs no systemd.',
  ],
  options,
});
