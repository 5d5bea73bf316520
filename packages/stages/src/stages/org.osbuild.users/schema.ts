import { z } from 'zod';
import { defineStage, patternRecord } from '../../shared/define.ts';

export const USER_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,255}$/;

export const user = z.looseObject({
  uid: z
    .number()
    .optional()
    .describe('UID (may be shared with another user); cannot change for an existing user'),
  gid: z.number().optional().describe('GID of the primary group'),
  groups: z.array(z.string()).optional().describe('supplementary groups, replacing any the user had'),
  description: z.string().optional().describe('comment field, usually the full name'),
  home: z
    .string()
    .optional()
    .describe('home directory, created from /etc/skel; an empty string creates none'),
  shell: z.string().optional().describe('login shell'),
  password: z.string().optional().describe('password hash as crypt(3) writes it'),
  key: z.string().optional().describe('an SSH public key for ~/.ssh/authorized_keys'),
  keys: z.array(z.string()).optional().describe('SSH public keys for ~/.ssh/authorized_keys'),
  expiredate: z.int().optional().describe('day the account is disabled, counted in days since 1970-01-01'),
  force_password_reset: z.boolean().optional().describe('make the user choose a new password at first login'),
});

export const options = z.strictObject({
  users: patternRecord(USER_NAME, user).optional().describe('the users: user name → properties'),
});

export default defineStage({
  type: 'org.osbuild.users',
  summary: 'Add or change user accounts',
  description: [
    "Adds each user of `users` to the tree's passwd, shadow and group files with useradd --root, or",
    'changes an existing one with usermod --root (its UID cannot change). The tools run from the',
    'build root and chroot into the tree, using its /etc/login.defs.',
    'A new user gets a home directory unless `home` is an empty string, or `home` is left out and',
    "the tree's login.defs says CREATE_HOME no (Debian's sets nothing, which here means yes, as",
    "Fedora's does). An existing user whose home is missing gets one too. The stage makes homes",
    "itself (useradd copies only the top level of /etc/skel in a chroot without /proc, and OSBuild's",
    'mkhomedir_helper is not needed): a copy of /etc/skel owned by the user, with HOME_MODE, or',
    '0777 less UMASK, from login.defs.',
    '`key` and `keys` are appended to ~/.ssh/authorized_keys (mode 0600, .ssh 0700, owned by',
    'the user); `force_password_reset` expires the password with passwd --root --expire.',
    'Build root commands used: `useradd`, `usermod`, `passwd` (Debian package passwd).',
  ],
  options,
  devices: { type: 'object', additionalProperties: true },
  mounts: { type: 'array' },
});
