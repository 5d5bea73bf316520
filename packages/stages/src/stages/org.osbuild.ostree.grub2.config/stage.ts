import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { copyModules } from '../../shared/grub-modules.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** A boot loader entry (Boot Loader Specification): one `key value` per line. */
export function parseEntry(text: string): Map<string, string> {
  const entry = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_-]+)\s+(.*?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith('#')) entry.set(m[1] as string, m[2] as string);
  }
  return entry;
}

/** A string in single quotes for GRUB's script language. */
function quote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** The menu of `entries` (newest first), each booting from the file system `uuid`. */
export function grubMenu(entries: Map<string, string>[], uuid: string, o: Options): string {
  const c = o.config ?? {};
  const lines = [
    '# Written by org.osbuild.ostree.grub2.config; ostree rewrites it with grub-mkconfig on the next deployment.',
  ];
  if (c.serial) lines.push(c.serial);
  if (c.terminal?.length) {
    lines.push(`terminal_input ${c.terminal.join(' ')}`, `terminal_output ${c.terminal.join(' ')}`);
  }
  lines.push(`set timeout=${c.timeout ?? 1}`, 'set default=0', '');
  entries.forEach((entry, i) => {
    const linux = entry.get('linux');
    if (!linux) throw new StageError('a boot loader entry has no "linux" line');
    const title = entry.get('title') ?? '(Untitled)';
    lines.push(
      `menuentry ${quote(title)} --class gnu-linux --class gnu --class os --unrestricted ${quote(`ostree-${i}-${uuid}`)} {`,
    );
    lines.push('  insmod gzio', '  insmod part_gpt', '  insmod ext2');
    lines.push(`  search --no-floppy --fs-uuid --set=root ${uuid}`);
    lines.push(`  linux /boot${linux}${entry.has('options') ? ` ${entry.get('options')}` : ''}`);
    const initrd = entry.get('initrd');
    if (initrd) lines.push(`  initrd /boot${initrd}`);
    lines.push('}');
  });
  return `${lines.join('\n')}\n`;
}

export function main(args: StageArguments<Options>): void {
  const o = args.options;
  if (!/^[0-9A-Fa-f-]+$/.test(o.root_fs_uuid)) throw new StageError(`invalid UUID '${o.root_fs_uuid}'`);
  const boot = join(args.tree, 'boot');
  const link = lstatSync(join(boot, 'loader'), { throwIfNoEntry: false });
  if (!link?.isSymbolicLink()) {
    throw new StageError('/boot/loader is not a link: deploy a commit first (org.osbuild.ostree.deploy)');
  }
  const loader = readlinkSync(join(boot, 'loader'));
  if (!/^loader\.[01]$/.test(loader)) throw new StageError(`/boot/loader points to ${loader}`);
  const dir = join(boot, loader, 'entries');
  const entries = readdirSync(dir)
    .filter((n) => n.endsWith('.conf'))
    .map((n) => parseEntry(readFileSync(join(dir, n), 'utf8')))
    // ostree's order: the highest version (the default deployment) first.
    .sort((a, b) => Number(b.get('version') ?? 0) - Number(a.get('version') ?? 0));
  if (entries.length === 0) throw new StageError(`/boot/${loader}/entries has no boot loader entry`);
  writeFileSync(join(boot, loader, 'grub.cfg'), grubMenu(entries, o.root_fs_uuid.toLowerCase(), o));
  const grubDir = join(boot, 'grub');
  mkdirSync(grubDir, { recursive: true });
  rmSync(join(grubDir, 'grub.cfg'), { force: true });
  symlinkSync('../loader/grub.cfg', join(grubDir, 'grub.cfg'));
  if (o.legacy) copyModules(grubDir, o.legacy);
  process.stdout.write(`/boot/${loader}/grub.cfg: ${entries.length} entries\n`);
}
