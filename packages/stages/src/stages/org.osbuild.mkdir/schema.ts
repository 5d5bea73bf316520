import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

/** A path in the tree (no `..` component), or a `tree://` or `mount://` location. */
export const targetPath = z.union([
  z.string().regex(/^\/?(?!\.\.)((?!\/\.\.\/).)+$/),
  z.string().regex(/^mount:\/\/.+/),
  z.string().regex(/^tree:\/\/.+/),
]);

export const options = z.strictObject({
  paths: z
    .array(
      z.strictObject({
        path: targetPath,
        mode: z
          .number()
          .optional()
          .describe('numeric mode (decimal in JSON), 0o777 when omitted; umask applies'),
        parents: z.boolean().default(false).describe('create missing parent directories'),
        exist_ok: z.boolean().default(false).describe('succeed when the directory exists already'),
      }),
    )
    .optional(),
});

export default defineStage({
  type: 'org.osbuild.mkdir',
  summary: 'Create directories',
  description: ['Creates each directory in `paths`, in order, with the given mode.'],
  options,
});
