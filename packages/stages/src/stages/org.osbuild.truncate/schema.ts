import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  filename: z.string().describe('the file in the tree to create or resize'),
  size: z.string().describe('the new size as truncate(1) reads it, e.g. 10G, 512M, +1M'),
});

export default defineStage({
  type: 'org.osbuild.truncate',
  summary: 'Create a file of a given size or resize one',
  description: [
    'Sets the size of `filename` in the tree to `size` with `truncate --size`, creating the file when',
    'missing. Growing fills with zeros without allocating blocks (a sparse file, so the space used on',
    'disk can be much less than the size); shrinking discards what lies beyond the new end.',
    '`size` takes truncate(1)’s syntax: a number with an optional unit (K, M, G… powers of 1024; KB,',
    'MB, GB… powers of 1000) and an optional +, -, <, >, / or % prefix relative to the current size.',
  ],
  options,
});
