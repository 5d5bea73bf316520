import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import {
  checkAvailable,
  clampMtimes,
  cleanAptState,
  type DebPackage,
  inputFiles,
  installedPackages,
  makeRepository,
  packageEnv,
  sourceEpoch,
} from '../../shared/local-repo.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

const HOOKS = '/usr/share/mmdebstrap/hooks';
const DPKG_OPTION = 'force-unsafe-io';

/** What mmdebstrap puts into /dev (as nodes, links or directories); removed so /dev ends up empty. */
const DEV_ENTRIES = [
  'console',
  'fd',
  'full',
  'null',
  'ptmx',
  'pts',
  'random',
  'shm',
  'stderr',
  'stdin',
  'stdout',
  'tty',
  'urandom',
  'zero',
];

/** Host files mmdebstrap copies into the tree "for network access"; removed when they are copies. */
const HOST_COPIES = ['etc/resolv.conf', 'etc/hostname'];

export function main(args: StageArguments<Options>): { packages: DebPackage[] } {
  const o = args.options;
  const variant = o.variant ?? 'custom';
  const arch = o.arch ?? 'amd64';
  const mergedUsr = o['merged-usr'] ?? true;
  const keepCache = o['keep-apt-cache'] ?? false;
  const tree = args.tree;
  const epoch = sourceEpoch(args);

  const present = readdirSync(tree).filter((n) => n !== 'lost+found');
  if (present.length > 0) throw new StageError(`the tree is not empty (it holds ${present.join(', ')})`);

  const hostCopies = new Map(
    HOST_COPIES.map((rel) => [rel, existsSync(`/${rel}`) ? readFileSync(`/${rel}`) : undefined]),
  );

  const repo = makeRepository(inputFiles(args), o.suite);
  try {
    const foreign = repo.packages.filter((p) => p.arch !== arch && p.arch !== 'all');
    if (foreign.length === repo.packages.length) {
      throw new StageError(`no input package is for the architecture ${arch}`);
    }
    const include =
      o.packages ?? (variant === 'custom' ? [...new Set(repo.packages.map((p) => p.name))].sort() : []);
    if (variant === 'custom' && include.length === 0) {
      throw new StageError('variant "custom" needs at least one package');
    }
    checkAvailable(include, repo.packages, 'packages');
    if (mergedUsr && !repo.packages.some((p) => p.name === 'usr-is-merged')) {
      throw new StageError('merged-usr needs the package usr-is-merged among the input packages');
    }

    const argv = [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'mmdebstrap',
      '--mode=root',
      '--format=directory',
      `--variant=${variant}`,
      `--architectures=${arch}`,
      '--skip=check/signed-by',
      // no fsync for every unpacked file: a build that fails is thrown away anyway
      `--dpkgopt=${DPKG_OPTION}`,
      `--hook-dir=${HOOKS}/${mergedUsr ? 'merged-usr' : 'no-merged-usr'}`,
    ];
    if (include.length > 0) argv.push(`--include=${include.join(',')}`);
    if (keepCache) argv.push('--skip=essential/unlink', '--skip=cleanup/apt/cache');
    argv.push('--', o.suite, tree, repo.sourcesLine);
    exec(argv, { env: packageEnv(epoch) });
  } finally {
    repo.remove();
  }

  // The temporary repository must not stay an apt source of the image.
  const sourcesList = join(tree, 'etc/apt/sources.list');
  if (existsSync(sourcesList) && readFileSync(sourcesList, 'utf8').includes(repo.dir)) {
    rmSync(sourcesList);
  }
  const parts = join(tree, 'etc/apt/sources.list.d');
  if (existsSync(parts)) {
    for (const name of readdirSync(parts)) {
      const path = join(parts, name);
      if (lstatSync(path).isFile() && readFileSync(path, 'utf8').includes(repo.dir)) rmSync(path);
    }
  }
  for (const [rel, content] of hostCopies) {
    const path = join(tree, rel);
    if (content !== undefined && lstatSync(path, { throwIfNoEntry: false })?.isFile()) {
      if (readFileSync(path).equals(content)) rmSync(path);
    }
  }
  // mmdebstrap keeps --dpkgopt settings in the tree; this one is only for the build
  const dpkgCfg = join(tree, 'etc/dpkg/dpkg.cfg.d/99mmdebstrap');
  if (existsSync(dpkgCfg) && readFileSync(dpkgCfg, 'utf8').trim() === DPKG_OPTION) rmSync(dpkgCfg);
  for (const name of DEV_ENTRIES) rmSync(join(tree, 'dev', name), { recursive: true, force: true });
  cleanAptState(tree, keepCache);
  if (epoch !== undefined) clampMtimes(tree, epoch);
  return { packages: installedPackages(tree) };
}
