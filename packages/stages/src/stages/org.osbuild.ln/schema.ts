import { z } from 'zod';
import { anyInputs, defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  paths: z
    .array(
      z.strictObject({
        target: z.string().describe('what the link points to'),
        link_name: z.xor([
          z
            .string()
            .regex(/^mount:\/\/[^/]+\//)
            .describe('the link to create, in a mount'),
          z
            .string()
            .regex(/^tree:\/\//)
            .describe('the link to create, in the tree'),
        ]),
        symbolic: z.boolean().default(false).describe('make a symbolic link instead of a hard link'),
      }),
    )
    .min(1)
    .describe('the links to create, in order'),
});

export default defineStage({
  type: 'org.osbuild.ln',
  summary: 'Create hard or symbolic links in the tree or a mount',
  description: [
    'For each entry of `paths`, creates `link_name` (a `tree://` or `mount://NAME/` location) as a link to',
    '`target`. A symbolic link stores `target` exactly as given, relative or absolute. A hard link needs',
    'an existing file: its `target` is a path inside the same tree or mount as the link (a relative one',
    'is taken from that root, as the sandbox’s working directory is `/`), or a location URL.',
    'An existing `link_name` is an error.',
  ],
  options,
  inputs: anyInputs,
  devices: { type: 'object', additionalProperties: true },
  mounts: { type: 'array' },
});
