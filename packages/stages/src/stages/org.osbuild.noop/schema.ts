import { z } from 'zod';
import { anyInputs, defineStage } from '../../shared/define.ts';

export default defineStage({
  type: 'org.osbuild.noop',
  summary: 'Do nothing',
  description: [
    'Prints the options it was given as JSON and leaves the tree as it is.',
    'For tests and for measuring the cost of running a stage.',
  ],
  options: z.looseObject({}),
  inputs: anyInputs,
});
