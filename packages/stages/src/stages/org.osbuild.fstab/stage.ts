import { writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { deploymentRoot } from '../../shared/ostree.ts';
import { inRoot } from '../../shared/paths.ts';
import type { filesystem, options } from './schema.ts';

type Options = z.input<typeof options>;
type Filesystem = z.input<typeof filesystem>;

function fsSpec(fs: Filesystem): string {
  if (fs.uuid) return `UUID=${fs.uuid}`;
  if (fs.label) return `LABEL=${fs.label}`;
  if (fs.partlabel) return `PARTLABEL=${fs.partlabel}`;
  if (fs.device) return fs.device;
  throw new StageError(`the file system for ${fs.path} needs uuid, label, partlabel or device`);
}

/** The fstab text for these file systems (exported for tests). */
export function fstabText(filesystems: Filesystem[]): string {
  return filesystems
    .map((fs) =>
      [
        fsSpec(fs),
        fs.path,
        fs.vfs_type ?? 'none',
        fs.options ?? 'defaults',
        fs.freq ?? 0,
        fs.passno ?? 0,
      ].join('\t'),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export function main(args: StageArguments<Options>): void {
  const { filesystems, ostree } = args.options;
  let root = '/';
  if (ostree) {
    root = deploymentRoot(args.tree, ostree.deployment).path;
    process.stdout.write(`ostree deployment: ${root}\n`);
  }
  const target = inRoot(args.tree, posix.join(root, 'etc/fstab'));
  const text = fstabText(filesystems);
  try {
    writeFileSync(target, text);
  } catch (err) {
    throw new StageError(
      `cannot write ${posix.join(root, 'etc/fstab')}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
}
