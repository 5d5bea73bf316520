import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  ref: z.string().default('').describe('the branch (ref) the commit is recorded under'),
  os_version: z.string().optional().describe('stored as the `version` metadata of the commit'),
  parent: z.string().optional().describe('the checksum of the parent commit'),
  'selinux-label-version': z
    .number()
    .int()
    .default(0)
    .describe('accepted for OSBuild manifests and ignored: Debian trees are committed with their own labels'),
});

export default defineStage({
  type: 'org.osbuild.ostree.commit',
  summary: 'Commit a tree in OSTree layout to the repository at /repo',
  description: [
    'Commits the tree of the input `tree`, already reshaped for OSTree (see org.osbuild.ostree.preptree),',
    'with plain `ostree commit` into the repository at `/repo` of this stage’s tree (create it with',
    'org.osbuild.ostree.init), under the branch `ref`. OSBuild uses `rpm-ostree compose commit`, which',
    'Debian lacks; the commit made here carries the same metadata: `version` (from `os_version`) and',
    '`rpmostree.inputhash` (the stage id), and the bootable flag when the tree has a kernel at',
    '/usr/lib/modules/VERSION/vmlinuz (no `ostree.sizes`: outside an archive repository ostree compresses',
    'every file a second time to compute them).',
    'The commit time is SOURCE_DATE_EPOCH when it is set, so the same tree committed twice gives the same',
    'commit id in any repository. A tree identical to that of the parent commit (`parent`, or else the current head of',
    '`ref`), when the repository holds that commit, makes no new commit (`--skip-if-unchanged`) and the ref',
    'points to it; a `parent` the repository lacks is only recorded in the new commit.',
    'Into an archive repository the tree is first committed to a bare-user working repository beside it',
    '(checksums without compression), then only the objects the archive lacks are compressed into it',
    '(`ostree pull-local`): an unchanged tree costs a checksum pass, not a compression of every file.',
    'The commit id, ref and statistics are written to `/compose.json` and reported as the metadata',
    '`compose`, with the keys rpm-ostree uses (`ostree-commit`, `ref`, `ostree-version`, …).',
    '`selinux-label-version` is ignored.',
  ],
  options,
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['tree'],
    properties: { tree: { type: 'object', additionalProperties: true } },
  },
});
