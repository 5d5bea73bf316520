import { z } from 'zod';
import { anyInputs, defineStage } from '../../shared/define.ts';

const fromInput = z
  .string()
  .regex(/^input:\/\/[^/]+\//)
  .describe('a file or directory of an input');
const fromMount = z
  .string()
  .regex(/^mount:\/\/[^/]+\//)
  .describe('a file or directory in a mount');
const inTree = z
  .string()
  .regex(/^tree:\/\/\//)
  .describe('a file or directory in the tree');

export const options = z.strictObject({
  paths: z
    .array(
      z.strictObject({
        from: z.xor([fromInput, fromMount, inTree]),
        to: z.xor([
          fromMount.describe('where to copy to, in a mount'),
          inTree.describe('where to copy to, in the tree'),
        ]),
        remove_destination: z
          .boolean()
          .default(false)
          .describe('delete an existing destination file first instead of writing through it'),
      }),
    )
    .min(1)
    .describe('what to copy, in order'),
});

export default defineStage({
  type: 'org.osbuild.copy',
  summary: 'Copy files and directories between inputs, mounts and the tree',
  description: [
    'For each entry of `paths`, copies `from` (an `input://NAME/…`, `mount://NAME/…` or `tree:///…`',
    'location) to `to` (a `mount://NAME/…` or `tree:///…` location) with `cp -a --reflink=auto`, keeping',
    'modes, owners, timestamps, hard links, extended attributes and SELinux labels.',
    'A `from` ending in `/` copies what the directory holds rather than the directory itself (as rsync',
    'does). When `to` is an existing directory, `from` is copied into it.',
    'An existing destination file is overwritten in place: when it is a symbolic link to a file, the file',
    'it points to inside the same tree or mount receives the data. `remove_destination` deletes such a',
    'destination first, so a symbolic link is replaced by the copied file (files only, not directories).',
    'Symbolic links are resolved inside their tree, input or mount, so a copy never writes outside them;',
    'writing through a link that leads elsewhere is refused.',
  ],
  capabilities: ['CAP_MAC_ADMIN'],
  options,
  inputs: anyInputs,
  devices: { type: 'object', additionalProperties: true },
  mounts: { type: 'array' },
});
