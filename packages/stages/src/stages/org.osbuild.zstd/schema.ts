import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { fileInput } from '../../shared/file-input.ts';

export const options = z.strictObject({
  filename: z.string().describe('the compressed file to create in the tree'),
});

export default defineStage({
  type: 'org.osbuild.zstd',
  summary: 'Compress a file with zstd',
  description: [
    'Compresses the single file of the input `file` with `zstd` at level 1, on as many threads as there',
    'are processors, and writes the result to `filename` in the tree.',
  ],
  options,
  inputs: fileInput,
});
