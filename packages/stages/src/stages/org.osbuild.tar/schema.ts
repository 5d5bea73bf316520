import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z
  .strictObject({
    filename: z.string().describe('the archive to create in the tree'),
    format: z
      .enum(['gnu', 'oldgnu', 'posix', 'ustar', 'v7'])
      .default('gnu')
      .describe('archive format (tar --format)'),
    compression: z
      .enum(['auto', 'xz', 'gzip', 'zstd'])
      .default('auto')
      .describe('compressor; auto picks it from the suffix of filename'),
    acls: z.boolean().default(true).describe('store POSIX ACLs'),
    selinux: z.boolean().default(true).describe('store SELinux contexts'),
    xattrs: z.boolean().default(true).describe('store extended attributes'),
    'root-node': z
      .enum(['include', 'omit'])
      .optional()
      .describe('include: members are ./name, with ./ itself; omit: members are name. Not with paths'),
    paths: z
      .array(z.string().describe('a path relative to the tree'))
      .optional()
      .describe('archive only these paths, in this order; not with root-node'),
    sparse: z.boolean().default(false).describe('store holes of sparse files as holes'),
    transform: z.string().optional().describe('a sed expression for member names (tar --transform)'),
    'numeric-owner': z.boolean().optional().describe('store owners as numbers only, without names'),
  })
  .meta({
    anyOf: [
      { required: ['root-node'], not: { required: ['paths'] } },
      { required: ['paths'], not: { required: ['root-node'] } },
      { not: { required: ['paths', 'root-node'] } },
    ],
  });

export default defineStage({
  type: 'org.osbuild.tar',
  summary: 'Pack the tree of an input into a tar archive',
  description: [
    'Archives the input `tree` with GNU tar into `filename` in the tree: the whole tree as `./…`',
    '(`root-node: include`, the default), its top-level entries without the `./` (`omit`), or just',
    '`paths`, relative to the tree, in the order given.',
    '`compression` runs xz, gzip or zstd; `auto` (the default) picks by the suffix of `filename`',
    '(.tar.gz, .tar.xz, .tar.zst …) and leaves other names uncompressed.',
    'POSIX ACLs, SELinux contexts and extended attributes are stored unless `acls`, `selinux` or',
    '`xattrs` is false (tar keeps them in the `posix` format only).',
    'With a source epoch (`meta.source-epoch` of the arguments, else SOURCE_DATE_EPOCH) the archive is',
    'reproducible: members are sorted by name, modification times later than the epoch are set to it,',
    'and extended headers get fixed names and no access or change times.',
    'Uses the build root’s tar and compressors.',
  ],
  capabilities: ['CAP_MAC_ADMIN'],
  options,
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['tree'],
    properties: { tree: { type: 'object', additionalProperties: true } },
  },
});
