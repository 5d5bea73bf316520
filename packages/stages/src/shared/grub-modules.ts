/**
 * Shared by the stages that lay out /boot/grub (org.osbuild.grub2, ostree.grub2.config): GRUB's
 * modules and font copied from the build root.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StageError } from './errors.ts';

/** Copies GRUB's modules for `platform` and the unicode font from the build root into /boot/grub. */
export function copyModules(grubDir: string, platform: string): number {
  if (!/^[a-z0-9_-]+$/.test(platform)) throw new StageError(`invalid GRUB platform '${platform}'`);
  const source = `/usr/lib/grub/${platform}`;
  if (!existsSync(source))
    throw new StageError(`the build root has no GRUB modules for ${platform} (${source})`);
  const target = join(grubDir, platform);
  mkdirSync(target, { recursive: true });
  let n = 0;
  for (const name of readdirSync(source)) {
    if (!/\.(mod|lst)$/.test(name) || name === 'fdt.lst') continue;
    copyFileSync(join(source, name), join(target, name));
    n++;
  }
  const font = '/usr/share/grub/unicode.pf2';
  if (!existsSync(font)) throw new StageError(`the build root has no GRUB font (${font})`);
  mkdirSync(join(grubDir, 'fonts'), { recursive: true });
  copyFileSync(font, join(grubDir, 'fonts', 'unicode.pf2'));
  return n;
}
