import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

const line = z.strictObject({
  type: z
    .string()
    .regex(/^([fwpLcbaA]\+?|[dDevqQCxXrRzZtThH]){1}((!?-?)|(-?!?)){0,1}$/)
    .describe('the line type with its modifiers, such as d, L+ or r!'),
  path: z.string().describe('the absolute path the line acts on'),
  mode: z
    .string()
    .regex(/^~?[0-7]{4}$/)
    .optional()
    .describe('access mode, four octal digits, ~ to mask'),
  user: z.string().optional().describe('owner'),
  group: z.string().optional().describe('group'),
  age: z.string().optional().describe('age after which files are cleaned up'),
  argument: z.string().optional().describe('the argument of the line type, such as a link target'),
});

export const options = z.strictObject({
  filename: z
    .string()
    .regex(/^[\w.-]{1,250}\.conf$/)
    .describe('name of the file in /usr/lib/tmpfiles.d'),
  config: z.array(line).min(1).describe('the lines of the file, in order'),
});

export default defineStage({
  type: 'org.osbuild.tmpfilesd',
  summary: 'Write a tmpfiles.d configuration file',
  description: [
    'Writes /usr/lib/tmpfiles.d/`filename` in the tree with one tmpfiles.d(5) line per entry of `config`:',
    '`type`, `path`, then `mode`, `user`, `group`, `age` and `argument`; a field left out before one that is',
    'given is written as `-`, trailing ones are omitted. Fields may not contain line breaks.',
  ],
  options,
});
