import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { isFilename, isSafeString, replaceFile } from '../../shared/config-file.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

function check(what: string, value: string, extra?: RegExp): void {
  if (!isFilename(value) || !isSafeString(value) || value.length >= 128 || extra?.test(value)) {
    throw new StageError(`'${value}' is not a valid ${what}`);
  }
}

function xorgKeyboard(layouts: string): string {
  return [
    '# Written by Debian Forge (org.osbuild.keymap); localectl(1) changes it.',
    'Section "InputClass"',
    '        Identifier "system-keyboard"',
    '        MatchIsKeyboard "on"',
    `        Option "XkbLayout" "${layouts}"`,
    'EndSection',
    '',
  ].join('\n');
}

const DEBIAN_KEYBOARD_DEFAULTS = (layouts: string) =>
  [
    '# KEYBOARD CONFIGURATION FILE',
    '',
    '# Consult the keyboard(5) manual page.',
    '',
    'XKBMODEL="pc105"',
    `XKBLAYOUT="${layouts}"`,
    'XKBVARIANT=""',
    'XKBOPTIONS=""',
    '',
    'BACKSPACE="guess"',
    '',
  ].join('\n');

/** /etc/default/keyboard with XKBLAYOUT set to `layouts`, other lines kept. */
function debianKeyboard(tree: string, layouts: string): string {
  let text: string;
  try {
    text = readFileSync(inRoot(tree, '/etc/default/keyboard'), 'utf8');
  } catch {
    return DEBIAN_KEYBOARD_DEFAULTS(layouts);
  }
  const line = `XKBLAYOUT="${layouts}"`;
  if (/^XKBLAYOUT=.*$/m.test(text)) return text.replace(/^XKBLAYOUT=.*$/m, line);
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const { keymap, font } = args.options;
  const x11 = args.options['x11-keymap'];
  check('keymap', keymap);
  if (font !== undefined) check('font', font);
  for (const layout of x11?.layouts ?? []) check('keyboard layout', layout, /[,\s]/);

  replaceFile(args.tree, '/etc/vconsole.conf', `KEYMAP=${keymap}\n${font ? `FONT=${font}\n` : ''}`);
  if (x11) {
    const layouts = x11.layouts.join(',');
    replaceFile(args.tree, '/etc/X11/xorg.conf.d/00-keyboard.conf', xorgKeyboard(layouts));
    replaceFile(args.tree, '/etc/default/keyboard', debianKeyboard(args.tree, layouts));
  }
}
