import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  'first-boot': z
    .enum(['yes', 'no', 'preserve'])
    .describe('yes: `uninitialized`; no: an empty file; preserve: keep the file that is there'),
});

export default defineStage({
  type: 'org.osbuild.machine-id',
  summary: 'Set up /etc/machine-id for the first boot',
  description: [
    'Decides what /etc/machine-id holds in the image, and so what systemd does on its first boot:',
    '`yes` writes `uninitialized`, so systemd generates an id and treats the boot as the first one',
    '(ConditionFirstBoot=yes units run); `no` leaves the file empty, so an id is generated but the boot',
    'does not count as a first boot; `preserve` keeps the existing file and fails when there is none.',
  ],
  options,
});
