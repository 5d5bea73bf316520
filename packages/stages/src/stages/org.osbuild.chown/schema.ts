import { z } from 'zod';
import { defineStage, pathKeyed } from '../../shared/define.ts';

const id = z.number().min(0);

export const options = z.strictObject({
  items: pathKeyed(
    z
      .object({
        user: z
          .xor([z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/), id])
          .optional()
          .describe('user name (looked up in the tree) or numeric uid'),
        group: z
          .xor([z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,31}$/), id])
          .optional()
          .describe('group name (looked up in the tree) or numeric gid'),
        recursive: z.boolean().default(false).describe('also change everything below a directory'),
      })
      .meta({ anyOf: [{ required: ['user'] }, { required: ['group'] }] }),
  ).optional(),
});

export default defineStage({
  type: 'org.osbuild.chown',
  summary: 'Change the owner and group of files in the tree',
  description: [
    '`items` maps absolute paths in the tree to a new `user` and/or `group`, each a name or a number, and',
    '`recursive` to change a whole directory. Names are looked up in the tree’s own /etc/passwd and',
    '/etc/group (as `chown` run in a chroot of the tree would); a name that is missing there but made of',
    'digits is taken as a number. Symbolic links are resolved inside the tree; a recursive change does not',
    'follow links but changes the links themselves, as `chown -R` does.',
  ],
  options,
});
