import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { attempt, exec } from '../../shared/exec.ts';
import {
  clampMtimes,
  cleanAptState,
  type DebPackage,
  inputFiles,
  installedPackages,
  keepLogs,
  makeRepository,
  PACKAGE_SPEC,
  packageEnv,
  parseStanzas,
  sourceEpoch,
  specName,
  writeExecutable,
} from '../../shared/local-repo.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

const POLICY_RC_D = 'usr/sbin/policy-rc.d';
const POLICY_SAVED = 'usr/sbin/policy-rc.d.forge-saved';

/** A value in apt.conf syntax (a double-quoted string; apt.conf has no escapes for `"`). */
function q(value: string): string {
  if (/["\n]/.test(value))
    throw new StageError(`cannot put ${JSON.stringify(value)} into apt's configuration`);
  return `"${value}"`;
}

/** Kernel hooks that make an initramfs (initramfs-tools, dracut); both skip when INITRD=No. */
const INITRAMFS_HOOKS = ['etc/kernel/postinst.d/initramfs-tools', 'etc/kernel/postinst.d/dracut'];

/** Identity (inode, size, mtime) of each file in the tree's /boot. */
function bootFiles(tree: string): Map<string, string> {
  const boot = join(tree, 'boot');
  const files = new Map<string, string>();
  if (!existsSync(boot)) return files;
  for (const name of readdirSync(boot)) {
    const st = lstatSync(join(boot, name));
    files.set(name, `${st.ino}:${st.size}:${st.mtimeMs}`);
  }
  return files;
}

/**
 * Kernel versions that need an initramfs made: those with /boot/vmlinuz-<v> and no initrd, and
 * those whose kernel image changed while their initrd did not.
 */
function kernelsWanting(tree: string, before: Map<string, string>): string[] {
  const now = bootFiles(tree);
  const versions: string[] = [];
  for (const [name, id] of now) {
    if (!name.startsWith('vmlinuz-')) continue;
    const version = name.slice('vmlinuz-'.length);
    const initrd = `initrd.img-${version}`;
    const kernelChanged = before.get(name) !== id;
    const initrdKept = now.has(initrd) && before.get(initrd) === now.get(initrd);
    if (!now.has(initrd) || (kernelChanged && initrdKept)) versions.push(version);
  }
  return versions.sort();
}

/**
 * Runs `argv` (apt, or chroot into the tree) in a bubblewrap namespace of its own where the tree
 * has /proc, a minimal /dev, a read-only /sys and fresh /run and /tmp; all of it disappears with
 * the namespace, as do processes left running.
 */
function inTree(tree: string, argv: string[], env: NodeJS.ProcessEnv): void {
  exec(
    [
      'bwrap',
      '--dev-bind',
      '/',
      '/',
      '--proc',
      join(tree, 'proc'),
      '--dev',
      join(tree, 'dev'),
      '--ro-bind',
      '/sys',
      join(tree, 'sys'),
      '--tmpfs',
      join(tree, 'run'),
      '--dir',
      join(tree, 'run/lock'),
      '--perms',
      '1777',
      '--tmpfs',
      join(tree, 'tmp'),
      '--unshare-pid',
      '--die-with-parent',
      '--',
      ...argv,
    ],
    { env },
  );
}

/** The tree's native architecture (that of its dpkg) and the foreign ones dpkg knows. */
function treeArchitectures(tree: string): string[] {
  const status = parseStanzas(readFileSync(join(tree, 'var/lib/dpkg/status'), 'utf8'));
  const native = status.find((s) => s.Package === 'dpkg')?.Architecture;
  if (!native) throw new StageError('the tree has no dpkg installed');
  const archFile = join(tree, 'var/lib/dpkg/arch');
  const listed = existsSync(archFile) ? readFileSync(archFile, 'utf8').split('\n').filter(Boolean) : [];
  return [native, ...listed.filter((a) => a !== native)];
}

/**
 * The .deb files of the stage's inputs: those of `packages` (org.osbuild.files), then those at the
 * top of each other input (an org.osbuild.tree, such as an sbuild pipeline's), by input name.
 */
function inputDebs(args: StageArguments<Options>): string[] {
  const names = Object.keys(args.inputs).sort();
  const files = args.inputs.packages ? inputFiles(args) : [];
  for (const name of names.filter((n) => n !== 'packages')) {
    const input = args.inputs[name] as { path: string };
    const debs = readdirSync(input.path).filter((f) => f.endsWith('.deb'));
    if (debs.length === 0) throw new StageError(`the input '${name}' holds no .deb files`);
    files.push(...debs.sort().map((f) => inRoot(input.path, f)));
  }
  if (files.length === 0) throw new StageError('no input holds packages to install');
  return files;
}

/**
 * apt's verdict on installing `packages` before anything is installed: a dependency neither in the
 * repository nor in the tree fails here with apt's lines naming it, instead of a bare exit status.
 */
function simulate(extra: string[], packages: string[], env: NodeJS.ProcessEnv): void {
  const r = attempt(['apt-get', '-q', ...extra, '--simulate', 'install', ...packages], env);
  if (r.status === 0) return;
  const said = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => /Depends:|Conflicts:|Breaks:|^E: /.test(l.trim()))
    .map((l) => l.trim());
  throw new StageError(
    `${packages.join(', ')} cannot be installed from the inputs and the tree:\n${said.join('\n') || r.stderr.trim()}`,
  );
}

export function main(args: StageArguments<Options>): { packages: DebPackage[] } {
  const o = args.options;
  const tree = args.tree;
  const epoch = sourceEpoch(args);
  if (!existsSync(join(tree, 'var/lib/dpkg/status'))) {
    throw new StageError('the tree has no dpkg database (var/lib/dpkg/status); bootstrap it first');
  }
  for (const spec of o.packages) {
    if (!PACKAGE_SPEC.test(spec)) throw new StageError(`invalid package '${spec}'`);
  }
  const archs = treeArchitectures(tree);
  const installed = new Set(installedPackages(tree).map((p) => p.name));

  const repo = makeRepository(inputDebs(args), 'forge');
  const policy = join(tree, POLICY_RC_D);
  const saved = join(tree, POLICY_SAVED);
  let policyWritten = false;
  try {
    const have = new Set(repo.packages.map((p) => p.name));
    const missing = o.packages.filter((s) => !have.has(specName(s)) && !installed.has(specName(s)));
    if (missing.length > 0) {
      throw new StageError(`packages neither in the input nor installed: ${missing.join(', ')}`);
    }

    // apt runs outside the tree, configured by this file alone: indices and logs stay in the
    // scratch directory, packages are copied into the tree's archive cache, dpkg runs chrooted.
    const scratch = repo.dir;
    for (const d of [
      'etc/sources.list.d',
      'etc/preferences.d',
      'etc/trusted.gpg.d',
      'lists/partial',
      'cache',
      'log',
    ]) {
      mkdirSync(join(scratch, d), { recursive: true });
    }
    writeFileSync(join(scratch, 'etc/sources.list'), `${repo.sourcesLine}\n`);
    const archives = join(tree, 'var/cache/apt/archives');
    mkdirSync(join(archives, 'partial'), { recursive: true });
    mkdirSync(join(tree, 'var/lib/apt'), { recursive: true });
    const conf = [
      `Dir ${q(`${tree}/`)};`,
      `Dir::Etc ${q(`${scratch}/etc/`)};`,
      `Dir::Etc::Main "/dev/null";`,
      `Dir::Etc::Parts ${q(`${scratch}/etc/empty.d/`)};`,
      `Dir::Etc::SourceList ${q(`${scratch}/etc/sources.list`)};`,
      `Dir::Etc::SourceParts ${q(`${scratch}/etc/sources.list.d/`)};`,
      `Dir::Etc::Preferences "/dev/null";`,
      `Dir::Etc::PreferencesParts ${q(`${scratch}/etc/preferences.d/`)};`,
      `Dir::Etc::Trusted "/dev/null";`,
      `Dir::Etc::TrustedParts ${q(`${scratch}/etc/trusted.gpg.d/`)};`,
      `Dir::State ${q(`${tree}/var/lib/apt/`)};`,
      `Dir::State::Lists ${q(`${scratch}/lists/`)};`,
      `Dir::State::status ${q(`${tree}/var/lib/dpkg/status`)};`,
      `Dir::Cache ${q(`${scratch}/cache/`)};`,
      `Dir::Cache::Archives ${q(`${archives}/`)};`,
      `Dir::Cache::pkgcache "";`,
      `Dir::Cache::srcpkgcache "";`,
      `Dir::Log ${q(`${scratch}/log/`)};`,
      `Dir::Bin::dpkg "/usr/bin/dpkg";`,
      `DPkg::Chroot-Directory ${q(tree)};`,
      `DPkg::Options { "--force-confdef"; "--force-confold"; "--force-unsafe-io"; };`,
      `APT::Architecture ${q(archs[0] as string)};`,
      `APT::Architectures { ${archs.map((a) => `${q(a)};`).join(' ')} };`,
      `APT::Sandbox::User "root";`,
      `APT::Install-Recommends ${o.recommends ? '"true"' : '"false"'};`,
      `APT::Get::Assume-Yes "true";`,
      `Acquire::Languages "none";`,
    ];
    mkdirSync(join(scratch, 'etc/empty.d'), { recursive: true });
    const aptConf = join(scratch, 'apt.conf');
    writeFileSync(aptConf, `${conf.join('\n')}\n`);
    const env = { ...packageEnv(epoch), APT_CONFIG: aptConf };
    const extra = (o['apt-options'] ?? []).flatMap((v) => ['-o', v]);

    exec(['apt-get', '-q', ...extra, 'update'], { env });
    simulate(extra, o.packages, env);

    if (lstatSync(policy, { throwIfNoEntry: false })) renameSync(policy, saved);
    writeExecutable(policy, '#!/bin/sh\n# written by org.osbuild.apt while it installs packages\nexit 101\n');
    policyWritten = true;
    const restoreLogs = keepLogs(tree);
    const bootBefore = bootFiles(tree);
    try {
      // INITRD=No makes the kernel packages' initramfs hook skip; the initramfs of a new kernel
      // is made once below, after every package (and initramfs hook) is configured.
      inTree(tree, ['apt-get', '-q', ...extra, 'install', ...o.packages], { ...env, INITRD: 'No' });
      for (const version of kernelsWanting(tree, bootBefore)) {
        for (const hook of INITRAMFS_HOOKS) {
          if (!existsSync(join(tree, hook))) continue;
          inTree(tree, ['chroot', tree, `/${hook}`, version, `/boot/vmlinuz-${version}`], env);
        }
      }
    } finally {
      restoreLogs();
    }
  } finally {
    if (policyWritten) rmSync(policy, { force: true });
    if (lstatSync(saved, { throwIfNoEntry: false })) renameSync(saved, policy);
    repo.remove();
  }
  cleanAptState(tree);
  if (epoch !== undefined) clampMtimes(tree, epoch);
  return { packages: installedPackages(tree) };
}
