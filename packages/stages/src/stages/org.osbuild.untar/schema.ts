import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { fileInput } from '../../shared/file-input.ts';

export const options = z.strictObject({
  prefix: z.string().default('/').describe('the directory of the tree to unpack into; it must exist'),
});

export default defineStage({
  type: 'org.osbuild.untar',
  summary: 'Unpack a tar archive into the tree',
  description: [
    'Extracts the single file of the input `file`, a tar archive (gzip, xz, zstd and other compressions',
    'are recognised), into the directory `prefix` of the tree with GNU tar, keeping modes and owners.',
    'Owners are restored by number (`--numeric-owner`): the names in the archive are not looked up in the',
    'sandbox’s /etc, whose users need not match the tree’s.',
    'GNU tar strips leading `/` from member names and refuses members containing `..`.',
  ],
  capabilities: ['CAP_MAC_ADMIN'],
  options,
  inputs: fileInput,
});
