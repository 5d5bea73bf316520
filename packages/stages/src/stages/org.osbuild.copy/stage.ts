import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot, splitLocation } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

export function main(args: StageArguments<Options>): void {
  for (const item of args.options.paths) {
    copy(args, item.from, item.to, item.remove_destination ?? false);
  }
}

function copy(args: StageArguments<Options>, from: string, to: string, removeDestination: boolean): void {
  const src = splitLocation(from, args);
  // rsync's convention: a trailing slash names what the directory holds, not the directory.
  const contents = src.path.endsWith('/');
  // Without the slash a final symbolic link is copied as a link, as `cp -a` does.
  const srcFile = inRoot(src.root, src.path, contents);
  const srcStat = lstatSync(srcFile, { throwIfNoEntry: false });
  if (!srcStat) throw new StageError(`cannot copy ${from}: it does not exist`);
  if (contents && !srcStat.isDirectory()) throw new StageError(`cannot copy ${from}: not a directory`);
  const srcPath = contents ? `${srcFile}/.` : srcFile;
  const srcIsDir = srcStat.isDirectory();
  // A plain file written onto an existing file goes through a symbolic link there (cp's behaviour),
  // unless the destination is removed first.
  const writesThrough = !srcIsDir && !srcStat.isSymbolicLink() && !removeDestination;

  const dst = splitLocation(to, args);
  const dstFollowed = inRoot(dst.root, dst.path, true);
  const dstStat = statSync(dstFollowed, { throwIfNoEntry: false });
  let target: string;
  if (dstStat?.isDirectory()) {
    target = contents ? dstFollowed : entryIn(dst.root, dstFollowed, posix.basename(srcFile), writesThrough);
  } else {
    if (dst.path.endsWith('/')) throw new StageError(`cannot copy to ${to}: no such directory`);
    target = writesThrough ? dstFollowed : inRoot(dst.root, dst.path, false);
  }
  if (srcIsDir && !removeDestination && statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
    checkMerge(srcPath, target, dst.root);
  }

  process.stdout.write(`copying '${srcPath}' -> '${target}'\n`);
  exec([
    'cp',
    '-a',
    '--reflink=auto',
    ...(removeDestination ? ['--remove-destination'] : []),
    '--no-target-directory',
    '--',
    srcPath,
    target,
  ]);
}

/** Where `name` inside the (resolved) directory `dir` lives, following a final link if asked to. */
function entryIn(root: string, dir: string, name: string, follow: boolean): string {
  const entry = posix.join(dir, name);
  if (follow && lstatSync(entry, { throwIfNoEntry: false })?.isSymbolicLink()) {
    return inRoot(root, `/${posix.relative(root, entry)}`, true);
  }
  return entry;
}

/**
 * Copying a directory onto an existing one: `cp` writes a file through a symbolic link it finds in
 * the destination. Refuse when such a link leads anywhere but where it leads inside `root`.
 */
function checkMerge(srcDir: string, dstDir: string, root: string): void {
  for (const entry of readdirSync(srcDir, { withFileTypes: true })) {
    const dst = posix.join(dstDir, entry.name);
    const st = lstatSync(dst, { throwIfNoEntry: false });
    if (!st) continue;
    if (entry.isDirectory()) {
      if (st.isDirectory()) checkMerge(posix.join(srcDir, entry.name), dst, root);
      continue;
    }
    if (entry.isSymbolicLink() || !st.isSymbolicLink()) continue;
    const onHost = realOrUndefined(dst);
    if (onHost === undefined) continue; // dangling: cp refuses to write through it
    const inside = realOrUndefined(inRoot(root, `/${posix.relative(root, dst)}`, true));
    if (onHost !== inside) {
      throw new StageError(
        `refusing to write through the symbolic link /${posix.relative(root, dst)}: it leads outside its tree`,
      );
    }
  }
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
