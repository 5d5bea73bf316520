import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** The pipeline's source epoch: from the arguments, else from the environment. */
function sourceEpoch(args: StageArguments<Options>): number | undefined {
  const fromMeta = args.meta['source-epoch'];
  if (typeof fromMeta === 'number') return fromMeta;
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : undefined;
}

/** A member path must stay in the tree: relative, without `..`, not through a symbolic link. */
function checkMember(tree: string, path: string): void {
  const parts = path.split('/');
  if (path.startsWith('/') || parts.includes('..') || path === '') {
    throw new StageError(`path '${path}' must be relative to the tree, without '..'`);
  }
  const plain = posix.join(tree, path);
  if (inRoot(tree, path, false) !== plain) {
    throw new StageError(`path '${path}' passes through a symbolic link`);
  }
}

export function main(args: StageArguments<Options>): void {
  const o = args.options;
  const input = args.inputs.tree;
  if (!input) throw new StageError("the input 'tree' is missing");
  if (o.paths && o['root-node']) throw new StageError("'paths' and 'root-node' exclude each other");
  const tree = input.path;
  const format = o.format ?? 'gnu';

  const argv = ['tar', `--format=${format}`];
  if (o.acls ?? true) argv.push('--acls');
  if (o.selinux ?? true) argv.push('--selinux');
  if (o.xattrs ?? true) argv.push('--xattrs', '--xattrs-include=*');
  if (o.sparse) argv.push('--sparse');
  if (o.transform) argv.push(`--transform=${o.transform}`);
  if (o['numeric-owner']) argv.push('--numeric-owner');
  const compression = o.compression ?? 'auto';
  argv.push(compression === 'auto' ? '--auto-compress' : `--${compression}`);

  const epoch = sourceEpoch(args);
  if (epoch !== undefined) {
    // Extended headers (posix, and any format once ACLs, labels or xattrs are on) would otherwise
    // carry access and change times.
    argv.push(
      '--sort=name',
      `--mtime=@${epoch}`,
      '--clamp-mtime',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    );
  }

  let members: string[];
  if (o.paths && o.paths.length > 0) {
    for (const path of o.paths) checkMember(tree, path);
    members = o.paths;
  } else if ((o['root-node'] ?? 'include') === 'include') {
    members = ['.'];
  } else {
    members = readdirSync(tree).sort();
  }

  argv.push('--create', `--file=${inRoot(args.tree, o.filename)}`, `--directory=${tree}`, '--', ...members);
  exec(argv, { env: { ...process.env, XZ_OPT: '--threads=0' } });
}
