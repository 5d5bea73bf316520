import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  keymap: z.string().describe('the console keymap, such as us or de-latin1'),
  'x11-keymap': z
    .strictObject({
      layouts: z
        .array(z.string().min(2))
        .min(1)
        .describe('XKB layouts, such as us or de, the first one the default'),
    })
    .optional()
    .describe('the keyboard of X11 and of Debian’s console-setup'),
  font: z.string().optional().describe('the console font, such as eurlatgr'),
});

export default defineStage({
  type: 'org.osbuild.keymap',
  summary: 'Set the keyboard layout of the console and of X11',
  description: [
    'Writes /etc/vconsole.conf anew with KEYMAP=`keymap` and, when given, FONT=`font`.',
    'With `x11-keymap`, also writes /etc/X11/xorg.conf.d/00-keyboard.conf selecting its `layouts` for',
    'X11, and sets XKBLAYOUT in /etc/default/keyboard, the file Debian’s console-setup and',
    'keyboard-configuration read (other settings there are kept; a missing file is created with',
    'Debian’s defaults).',
    'Names are checked as systemd-firstboot checks a keymap (one path component, no control characters,',
    'quotes or backslashes). The files are written directly rather than by running',
    '`systemd-firstboot --root`, so the build root needs no systemd.',
  ],
  options,
});
