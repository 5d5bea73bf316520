import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { SYSUSER_NAME } from './names.ts';

const entry = z.object({
  type: z.enum(['u', 'u!', 'g', 'm', 'r']).describe('u (u! locked) user, g group, m membership, r id range'),
  name: z.string().regex(SYSUSER_NAME).describe('user or group name; - for r'),
  id: z.string().default('-').describe('uid, uid:gid, gid, a group for m, or a range such as 500-900 for r'),
  gecos: z.string().optional().describe('description of a u user'),
  home: z.string().optional().describe('home directory of a u user'),
  shell: z.string().optional().describe('login shell of a u user'),
});

export const options = z.strictObject({
  config: z.strictObject({
    'path-prefix': z
      .enum(['usr', 'etc'])
      .default('usr')
      .describe('usr: /usr/lib/sysusers.d; etc: /etc/sysusers.d'),
    filename: z
      .string()
      .regex(/\.conf$/)
      .describe('name of the file to write'),
    entries: z.array(entry).describe('the lines of the file, in order'),
  }),
});

export default defineStage({
  type: 'org.osbuild.systemd-sysusers.d',
  summary: 'Write a sysusers.d configuration file',
  description: [
    'Writes `config.filename` in /usr/lib/sysusers.d (or /etc/sysusers.d with `path-prefix: etc`) of the',
    'tree, one sysusers.d(5) line per entry: type, name, id, then GECOS (quoted), home and shell.',
    'Entries are checked first: `r` lines need the name `-` and an id range; `m` lines name a group as id;',
    'ids are numbers (uid or uid:gid) other than 65535 and 4294967295, or `-`; only `u` lines may have',
    'GECOS, home or shell. The users are created when systemd-sysusers runs, e.g. by',
    'org.osbuild.systemd-sysusers or at boot.',
  ],
  options,
});
