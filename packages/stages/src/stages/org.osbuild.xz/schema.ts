import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { fileInput } from '../../shared/file-input.ts';

export const options = z.strictObject({
  filename: z.string().describe('the compressed file to create in the tree'),
});

export default defineStage({
  type: 'org.osbuild.xz',
  summary: 'Compress a file with xz',
  description: [
    'Compresses the single file of the input `file` with `xz` at preset 0 (fast), on as many threads',
    'as there are processors, and writes the result to `filename` in the tree.',
  ],
  options,
  inputs: fileInput,
});
