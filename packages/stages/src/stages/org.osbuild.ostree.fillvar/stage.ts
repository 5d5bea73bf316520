import { existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { deploymentRoot } from '../../shared/ostree.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

/** The /var entries created when missing: OSBuild's list, with Debian's lib/dpkg for lib/rpm. */
export const VAR_TARGETS = [
  'home',
  'roothome',
  'lib/dpkg',
  'opt',
  'srv',
  'usrlocal',
  'mnt',
  'media',
  'spool',
  'spool/mail',
];

/** systemd-tmpfiles(8): 65 means some lines were ignored, nothing else went wrong. */
const TMPFILES_IGNORED_LINES = 65;

export function main(args: StageArguments<z.input<typeof options>>): void {
  const { osname, path } = deploymentRoot(args.tree, args.options.deployment);
  const deployment = inRoot(args.tree, path);
  if (!statSync(deployment, { throwIfNoEntry: false })?.isDirectory())
    throw new StageError(`no deployment at ${path}`);
  const stateVar = inRoot(args.tree, `/ostree/deploy/${osname}/var`);
  if (!existsSync(stateVar))
    throw new StageError(`stateroot ${osname} has no /var: run org.osbuild.ostree.os-init`);
  process.stdout.write(`filling ${`/ostree/deploy/${osname}/var`} for ${path}\n`);

  for (const dir of ['lib', 'log']) mkdirSync(join(stateVar, dir), { recursive: true });
  // Entries already there are left alone, as OSBuild leaves them.
  const missing = VAR_TARGETS.filter((t) => !lstatSync(join(stateVar, t), { throwIfNoEntry: false }));
  if (missing.length === 0) return;
  const inDeployment = join(deployment, 'var');
  if (!statSync(inDeployment, { throwIfNoEntry: false })?.isDirectory())
    throw new StageError(`the deployment ${path} has no /var directory to mount the stateroot's on`);
  exec(
    [
      'bwrap',
      '--dev-bind',
      '/',
      '/',
      '--bind',
      stateVar,
      inDeployment,
      '--die-with-parent',
      '--',
      'systemd-tmpfiles',
      '--create',
      '--boot',
      `--root=${deployment}`,
      ...missing.map((t) => `--prefix=/var/${t}`),
    ],
    { okCodes: [TMPFILES_IGNORED_LINES] },
  );
}
