import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  repo: z.string().describe('the repository in the tree, such as /ostree/repo'),
  remotes: z
    .array(
      z.object({
        name: z.string().describe('the name of the remote'),
        url: z.string().describe('where the remote’s metadata (and content) is fetched from'),
        contenturl: z.string().optional().describe('where content is fetched from instead of `url`'),
        branches: z.array(z.string()).optional().describe('the branches the remote is limited to'),
        gpgkeys: z.array(z.string()).optional().describe('ASCII-armored GPG keys that sign the commits'),
        gpgkeypaths: z
          .array(z.string())
          .optional()
          .describe('paths, on the booted system, of keys or key directories that sign the commits'),
      }),
    )
    .optional()
    .describe('the remotes to add'),
});

export default defineStage({
  type: 'org.osbuild.ostree.remotes',
  summary: 'Add remotes to an OSTree repository',
  description: [
    'Adds each remote to the repository `repo` of the tree with `ostree remote add --if-not-exists`, so',
    'a deployed system can pull upgrades from it. Signature checking is on when `gpgkeys` (imported',
    'into the repository with `ostree remote gpg-import`) or `gpgkeypaths` (recorded as the remote’s',
    '`gpgkeypath`) are given, and off otherwise.',
  ],
  options,
});
