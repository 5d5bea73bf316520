import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

const FACTORY = 'usr/share/factory/var';
const DPKG_DB = 'usr/lib/sysimage/dpkg';
const VAR_CONF = 'usr/lib/tmpfiles.d/ostree-preptree-var.conf';
const SYSUSERS_CONF = 'usr/lib/sysusers.d/ostree-preptree.conf';

/** Toplevel directories whose contents move into /var, and the links replacing them. */
const INTO_VAR: [string, string][] = [
  ['home', 'home'],
  ['root', 'roothome'],
  ['opt', 'opt'],
  ['srv', 'srv'],
  ['mnt', 'mnt'],
  ['usr/local', 'usrlocal'],
];

const isDir = (p: string) => lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
const exists = (p: string) => lstatSync(p, { throwIfNoEntry: false }) !== undefined;

/** Empties a directory (creating it when missing) and gives it `mode`. */
function emptyDir(path: string, mode: number): void {
  if (exists(path) && !isDir(path)) rmSync(path, { force: true });
  mkdirSync(path, { recursive: true });
  for (const name of readdirSync(path)) rmSync(join(path, name), { recursive: true, force: true });
  chmodSync(path, mode);
}

/**
 * A tmpfiles.d path field: `%` doubled (specifiers), and double-quoted, with `"` and `\\` escaped by a
 * backslash, when it holds anything but plain characters. A line break cannot be written at all.
 */
export function tmpfilesPath(value: string): string {
  if (/[\n\r]/.test(value)) throw new StageError(`cannot write ${JSON.stringify(value)} in tmpfiles.d`);
  const doubled = value.replace(/%/g, '%%');
  if (/^[A-Za-z0-9/._+@:,=~%-]+$/.test(doubled)) return doubled;
  return `"${doubled.replace(/["\\]/g, '\\$&')}"`;
}

/** A tmpfiles.d argument: the rest of the line, C escapes (backslashes) and specifiers expanded. */
export function tmpfilesArgument(value: string): string {
  if (/[\n\r]/.test(value) || value !== value.trim()) {
    throw new StageError(`cannot write ${JSON.stringify(value)} in tmpfiles.d`);
  }
  return value.replace(/%/g, '%%').replace(/\\/g, '\\\\');
}

/** Runs `argv` chrooted in the tree with /proc, a minimal /dev, /sys, /run and /tmp of its own. */
function inTree(tree: string, argv: string[]): void {
  // biome-ignore format: one bubblewrap option and its arguments per line
  exec([
    'bwrap', '--dev-bind', '/', '/',
    '--proc', join(tree, 'proc'),
    '--dev', join(tree, 'dev'),
    '--ro-bind', '/sys', join(tree, 'sys'),
    '--tmpfs', join(tree, 'run'),
    '--tmpfs', join(tree, 'tmp'),
    '--unshare-pid', '--die-with-parent',
    '--', 'chroot', tree, ...argv,
  ]);
}

function kernels(tree: string, options: Options): void {
  const modules = join(tree, 'usr/lib/modules');
  const lib = join(tree, 'lib');
  // A tree without merged /usr: its modules join the others under /usr/lib/modules.
  if (isDir(lib) && isDir(join(lib, 'modules'))) {
    mkdirSync(modules, { recursive: true, mode: 0o755 });
    for (const v of readdirSync(join(lib, 'modules'))) {
      if (exists(join(modules, v))) throw new StageError(`modules ${v} are in both /lib and /usr/lib`);
      renameSync(join(lib, 'modules', v), join(modules, v));
    }
    rmdirSync(join(lib, 'modules'));
  }
  const versions = isDir(modules) ? readdirSync(modules).sort() : [];
  const boot = join(tree, 'boot');
  const dracut = ['usr/bin/dracut', 'usr/sbin/dracut'].some((p) => existsSync(join(tree, p)));
  let found = 0;
  for (const v of versions) {
    const kernel = join(boot, `vmlinuz-${v}`);
    if (!exists(kernel)) continue;
    found++;
    renameSync(kernel, join(modules, v, 'vmlinuz'));
    for (const [from, to] of [
      [`config-${v}`, 'config'],
      [`System.map-${v}`, 'System.map'],
    ] as const) {
      if (exists(join(boot, from))) renameSync(join(boot, from), join(modules, v, to));
    }
    const initrd = join(boot, `initrd.img-${v}`);
    if (dracut) {
      const args = options['initramfs-args'] ?? [];
      // biome-ignore format: keep the dracut command readable
      inTree(tree, [
        'dracut', '--force', '--no-hostonly', '--reproducible', '--add', 'ostree', ...args,
        '--kver', v, `/usr/lib/modules/${v}/initramfs.img`,
      ]);
      rmSync(initrd, { force: true });
    } else if (exists(initrd)) {
      process.stdout.write(
        `warning: the tree has no dracut: moving /boot/initrd.img-${v} as it is; it cannot boot an OSTree deployment\n`,
      );
      renameSync(initrd, join(modules, v, 'initramfs.img'));
    } else {
      process.stdout.write(`warning: kernel ${v} has no initramfs\n`);
    }
  }
  if (found === 0) process.stdout.write('note: no kernel in /boot: the tree will not be bootable\n');
  for (const name of ['vmlinuz', 'vmlinuz.old', 'initrd.img', 'initrd.img.old']) {
    for (const dir of ['', 'boot/']) {
      const p = join(tree, dir, name);
      if (lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(p);
    }
  }
}

function parseColon(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** sysusers.d lines for every group, user and group membership of the tree's /etc. */
function sysusers(tree: string): void {
  const etc = join(tree, 'etc');
  if (!existsSync(join(etc, 'passwd')) || !existsSync(join(etc, 'group'))) return;
  const field = (s: string) => (s === '' ? '-' : /[\s"']/.test(s) ? `"${s.replace(/["\\]/g, '\\$&')}"` : s);
  const lines = ['# The users and groups of the committed tree, so a kept /etc still gets new ones.'];
  const groups = parseColon(readFileSync(join(etc, 'group'), 'utf8'));
  for (const [name, , gid] of groups) {
    if (name && gid) lines.push(`g ${name} ${gid}`);
  }
  for (const [name, , uid, gid, gecos, home, shell] of parseColon(
    readFileSync(join(etc, 'passwd'), 'utf8'),
  )) {
    if (!name || !uid || !gid) continue;
    lines.push(`u ${name} ${uid}:${gid} ${field(gecos ?? '')} ${field(home ?? '')} ${field(shell ?? '')}`);
  }
  for (const [group, , , members] of groups) {
    for (const user of (members ?? '').split(',').filter(Boolean)) lines.push(`m ${user} ${group}`);
  }
  const target = join(tree, SYSUSERS_CONF);
  mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
  writeFileSync(target, `${lines.join('\n')}\n`, { mode: 0o644 });
}

/** tmpfiles.d lines recreating everything under `dir` (the tree's var, as /var). */
function varLines(dir: string, path: string, lines: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const host = join(dir, name);
    const inVar = `${path}/${name}`;
    const st = lstatSync(host);
    if (st.isDirectory()) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      lines.push(`d ${tmpfilesPath(inVar)} ${mode} ${st.uid} ${st.gid} -`);
      varLines(host, inVar, lines);
    } else if (st.isSymbolicLink()) {
      lines.push(`L ${tmpfilesPath(inVar)} - - - - ${tmpfilesArgument(readlinkSync(host))}`);
    } else if (st.isFile()) {
      lines.push(
        `C ${tmpfilesPath(inVar)} - - - - ${tmpfilesArgument(`/${FACTORY}${inVar.slice('/var'.length)}`)}`,
      );
    } else {
      process.stdout.write(`note: dropping ${inVar}: neither a file, a directory nor a link\n`);
      rmSync(host);
    }
  }
}

function reshapeVar(tree: string): void {
  const variable = join(tree, 'var');
  mkdirSync(variable, { recursive: true, mode: 0o755 });
  const lines = ['# /var of the committed tree, recreated at boot from /usr/share/factory/var.'];

  const dpkg = join(variable, 'lib/dpkg');
  if (isDir(dpkg)) {
    mkdirSync(posix.dirname(join(tree, DPKG_DB)), { recursive: true, mode: 0o755 });
    if (exists(join(tree, DPKG_DB))) throw new StageError(`/${DPKG_DB} exists already`);
    renameSync(dpkg, join(tree, DPKG_DB));
    symlinkSync(`../../${DPKG_DB}`, dpkg);
  }

  for (const [name, target] of INTO_VAR) {
    const dir = join(tree, name);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) {
      rmSync(dir, { force: true });
      continue;
    }
    if (!st.isDirectory()) throw new StageError(`/${name} is not a directory`);
    const into = join(variable, target);
    if (exists(into)) {
      // Debian's base system has an empty /var/opt beside /opt: the contents join it.
      if (!isDir(into)) throw new StageError(`cannot move /${name} to /var/${target}: it is not a directory`);
      for (const entry of readdirSync(dir)) {
        if (exists(join(into, entry))) {
          throw new StageError(`cannot move /${name}/${entry} to /var/${target}: it exists already`);
        }
        renameSync(join(dir, entry), join(into, entry));
      }
      rmdirSync(dir);
      continue;
    }
    // Only a directory with contents (or an unusual mode or owner) needs recreating in /var.
    const plain = (st.mode & 0o7777) === 0o755 && st.uid === 0 && st.gid === 0;
    if (readdirSync(dir).length > 0 || !plain) renameSync(dir, into);
    else rmdirSync(dir);
  }
  const media = join(tree, 'media');
  if (isDir(media)) {
    if (readdirSync(media).length > 0) throw new StageError('/media is not empty');
    rmdirSync(media);
  } else {
    rmSync(media, { force: true });
  }

  varLines(variable, '/var', lines);
  const factory = join(tree, FACTORY);
  if (exists(factory)) throw new StageError(`/${FACTORY} exists already`);
  mkdirSync(posix.dirname(factory), { recursive: true, mode: 0o755 });
  renameSync(variable, factory);
  // The dpkg link is in the tmpfiles lines; in the factory it would point nowhere.
  if (lstatSync(join(factory, 'lib/dpkg'), { throwIfNoEntry: false })?.isSymbolicLink()) {
    rmSync(join(factory, 'lib/dpkg'));
  }
  mkdirSync(variable, { mode: 0o755 });
  chmodSync(variable, 0o755);

  const conf = join(tree, VAR_CONF);
  mkdirSync(posix.dirname(conf), { recursive: true, mode: 0o755 });
  writeFileSync(conf, `${lines.join('\n')}\n`, { mode: 0o644 });
}

export function main(args: StageArguments<Options>): void {
  const tree = args.tree;
  const o = args.options;
  if (!isDir(join(tree, 'usr'))) throw new StageError('the tree has no /usr directory');
  if (!isDir(join(tree, 'etc'))) throw new StageError('the tree has no /etc directory');
  if (exists(join(tree, 'usr/etc'))) throw new StageError('/usr/etc exists already: is the tree prepared?');
  if (o.etc_group_members?.length) {
    process.stdout.write('note: etc_group_members has no effect: every group stays in /etc/group\n');
  }

  kernels(tree, o);
  sysusers(tree);
  const machineId = join(tree, 'etc/machine-id');
  if (lstatSync(machineId, { throwIfNoEntry: false })?.isFile()) truncateSync(machineId, 0);
  renameSync(join(tree, 'etc'), join(tree, 'usr/etc'));

  reshapeVar(tree);

  for (const name of ['dev', 'proc', 'sys', 'run']) emptyDir(join(tree, name), 0o755);
  mkdirSync(join(tree, 'sysroot'), { recursive: true });
  if (readdirSync(join(tree, 'sysroot')).length > 0) throw new StageError('/sysroot is not empty');
  chmodSync(join(tree, 'sysroot'), 0o755);
  if (o['tmp-is-dir'] ?? true) {
    emptyDir(join(tree, 'tmp'), 0o1777);
  } else {
    rmSync(join(tree, 'tmp'), { recursive: true, force: true });
    symlinkSync('sysroot/tmp', join(tree, 'tmp'));
  }
  rmSync(join(tree, 'ostree'), { recursive: true, force: true });
  // biome-ignore format: a table of links
  const links: [string, string][] = [
    ['home', 'var/home'], ['root', 'var/roothome'], ['opt', 'var/opt'], ['srv', 'var/srv'],
    ['mnt', 'var/mnt'], ['media', 'run/media'], ['ostree', 'sysroot/ostree'], ['usr/local', '../var/usrlocal'],
  ];
  for (const [name, target] of links) symlinkSync(target, join(tree, name));
  chmodSync(tree, 0o755);
}
