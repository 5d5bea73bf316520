import { z } from 'zod';
import { defineStage, pathKeyed } from '../../shared/define.ts';

export const options = z.strictObject({
  items: pathKeyed(
    z.object({
      mode: z.string().describe('symbolic (u+x,go-w) or octal (0755) mode, as chmod(1) takes it'),
      recursive: z.boolean().default(false).describe('also change everything below a directory'),
    }),
  ).optional(),
});

export default defineStage({
  type: 'org.osbuild.chmod',
  summary: 'Change the permission bits of files in the tree',
  description: [
    '`items` maps absolute paths in the tree to a `mode`, given as chmod(1) accepts it (symbolic or octal),',
    'and `recursive` to apply it to a whole directory. Every path must exist. Symbolic links are resolved',
    'inside the tree; a recursive change does not follow the links it meets.',
  ],
  options,
});
