import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../api/arguments.ts';
import { StageError } from '../../api/errors.ts';
import { inRoot } from '../../api/paths.ts';
import type { filesystem, options } from './schema.ts';

type Options = z.input<typeof options>;
type Filesystem = z.input<typeof filesystem>;
type Deployment = NonNullable<Options['ostree']>['deployment'];

const COMMIT = /^[0-9a-f]{64}$/;

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

/** The commit a ref names in the tree's ostree repo: a checksum, `refs/heads/…` or `remote:ref`. */
function resolveRef(tree: string, ref: string): string {
  if (COMMIT.test(ref)) return ref;
  const repo = '/ostree/repo';
  const colon = ref.indexOf(':');
  const candidates =
    colon >= 0
      ? [`refs/remotes/${ref.slice(0, colon)}/${ref.slice(colon + 1)}`]
      : [`refs/heads/${ref}`, `refs/mirrors/${ref}`];
  if (colon < 0) {
    const remotes = inRoot(tree, `${repo}/refs/remotes`);
    if (existsSync(remotes))
      for (const r of readdirSync(remotes).sort()) candidates.push(`refs/remotes/${r}/${ref}`);
  }
  for (const c of candidates) {
    const file = inRoot(tree, `${repo}/${c}`);
    if (!existsSync(file)) continue;
    const commit = readFileSync(file, 'utf8').trim();
    if (COMMIT.test(commit)) return commit;
  }
  throw new StageError(`ostree ref '${ref}' not found in the tree's ostree repo`);
}

/** The tree-relative root of the ostree deployment the options name. */
function deploymentRoot(tree: string, d: Deployment): string {
  if (d.default) {
    const found: string[] = [];
    const deploy = inRoot(tree, '/ostree/deploy');
    for (const osname of existsSync(deploy) ? readdirSync(deploy).sort() : []) {
      const dir = inRoot(tree, `/ostree/deploy/${osname}/deploy`);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).sort()) {
        if (/^[0-9a-f]{64}\.0$/.test(name)) found.push(`/ostree/deploy/${osname}/deploy/${name}`);
      }
    }
    if (found.length !== 1) {
      throw new StageError(
        found.length === 0
          ? 'no ostree deployment found'
          : `more than one ostree deployment: ${found.join(', ')}`,
      );
    }
    return found[0] as string;
  }
  if (!d.osname || !d.ref)
    throw new StageError('an ostree deployment needs osname and ref, or default: true');
  if (d.osname.includes('/')) throw new StageError(`invalid osname '${d.osname}'`);
  return posix.join('/ostree/deploy', d.osname, 'deploy', `${resolveRef(tree, d.ref)}.${d.serial ?? 0}`);
}

export function main(args: StageArguments<Options>): void {
  const { filesystems, ostree } = args.options;
  let root = '/';
  if (ostree) {
    root = deploymentRoot(args.tree, ostree.deployment);
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
