import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  mode: z
    .enum(['bare', 'bare-user', 'bare-user-only', 'archive'])
    .default('archive')
    .describe('the repository mode (see ostree-init(1))'),
  path: z.string().default('/repo').describe('where in the tree to create the repository'),
});

export default defineStage({
  type: 'org.osbuild.ostree.init',
  summary: 'Create an OSTree repository in the tree',
  description: [
    'Runs `ostree init` with the given `mode` for a repository at `path` inside the tree, creating',
    'missing parent directories. An existing repository of the same mode is left as it is.',
    '`archive` suits a repository that is exported or served over http; `bare-user` is much faster to',
    'commit into (nothing is compressed) and suits a working repository.',
  ],
  options,
});
