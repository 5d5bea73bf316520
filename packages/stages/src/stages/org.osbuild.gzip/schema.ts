import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { fileInput } from '../../shared/file-input.ts';

export const options = z.strictObject({
  filename: z.string().describe('the compressed file to create in the tree'),
  level: z.int().min(1).max(9).default(1).describe('gzip compression level, 1 (fastest) to 9 (smallest)'),
});

export default defineStage({
  type: 'org.osbuild.gzip',
  summary: 'Compress a file with gzip',
  description: [
    'Compresses the single file of the input `file` with `gzip` at `level` and writes the result to',
    '`filename` in the tree. The gzip header carries neither the original name nor a time stamp, so the',
    'output depends on the content only.',
  ],
  options,
  inputs: fileInput,
});
