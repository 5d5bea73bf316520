import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export function main(args: StageArguments<z.input<typeof options>>): void {
  const o = args.options;
  const tree = args.tree;
  if (!/^\w[\w.-]*$/.test(o.osname)) throw new StageError(`invalid osname '${o.osname}'`);
  const repo = join(tree, 'ostree/repo');
  if (!existsSync(join(repo, 'config'))) {
    throw new StageError('no /ostree/repo in the tree: run org.osbuild.ostree.init-fs first');
  }
  const remote = o.remote;
  if (remote !== undefined && !/^\w[\w.-]*$/.test(remote)) throw new StageError(`invalid remote '${remote}'`);

  let ref = o.ref ?? '';
  const input = args.inputs.commits;
  if (input) {
    if (ref) throw new StageError('`ref` cannot be given with an input: the input names the commit');
    const refs = (input.data?.refs ?? {}) as Record<string, { ref?: string }>;
    const entries = Object.entries(refs);
    if (entries.length === 0) throw new StageError('the input `commits` names no commit');
    for (const [commit, data] of entries) {
      ref = data?.ref || commit;
      exec([
        'ostree',
        'pull-local',
        `--repo=${repo}`,
        ...(remote ? [`--remote=${remote}`] : []),
        input.path,
        ref,
      ]);
    }
  }
  if (!ref) throw new StageError('no commit to deploy: give `ref` or an input');
  if (ref.startsWith('-')) throw new StageError(`invalid ref '${ref}'`);

  const kargs: string[] = [];
  if (o.rootfs) {
    if (o.rootfs.uuid) kargs.push(`root=UUID=${o.rootfs.uuid}`);
    else if (o.rootfs.label) kargs.push(`root=LABEL=${o.rootfs.label}`);
    else throw new StageError('rootfs needs a uuid or a label');
  }
  kargs.push(...(o.kernel_opts ?? []));

  const binds: string[] = [];
  for (const mount of o.mounts ?? []) {
    const path = inRoot(tree, mount);
    if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw new StageError(`mount point ${mount} is not a directory of the tree`);
    }
    binds.push('--bind', path, path);
  }
  exec([
    'bwrap',
    '--dev-bind',
    '/',
    '/',
    ...binds,
    '--die-with-parent',
    '--',
    'ostree',
    'admin',
    'deploy',
    `--sysroot=${tree}`,
    `--os=${o.osname}`,
    ...kargs.map((k) => `--karg-append=${k}`),
    remote ? `${remote}:${ref}` : ref,
  ]);
}
