import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options, user } from './schema.ts';

type Options = z.input<typeof options>;
type User = z.input<typeof user>;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function passwdEntry(tree: string, name: string): PasswdEntry | undefined {
  const file = inRoot(tree, '/etc/passwd');
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) {
      return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
    }
  }
  return undefined;
}

/** The settings of the tree's /etc/login.defs (empty when it has none). */
function loginDefs(tree: string): Map<string, string> {
  const defs = new Map<string, string>();
  const file = inRoot(tree, '/etc/login.defs');
  if (!existsSync(file)) return defs;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(\S+)/.exec(line);
    if (m?.[1] && m[2]) defs.set(m[1], m[2].replace(/^"(.*)"$/, '$1'));
  }
  return defs;
}

function octal(value: string | undefined): number | undefined {
  return value !== undefined && /^0?[0-7]{1,4}$/.test(value) ? Number.parseInt(value, 8) : undefined;
}

/**
 * Adds the user; returns whether it should get a home directory. The home is not left to
 * `useradd --create-home`: in a chroot without /proc (as the tree is) it copies only the top level
 * of /etc/skel, so `ensureHome` creates it.
 */
function useradd(tree: string, name: string, u: User, defs: Map<string, string>): boolean {
  const argv = ['useradd', '--root', tree, '--no-create-home'];
  if (u.uid !== undefined) argv.push('--uid', String(u.uid), '--non-unique');
  if (u.gid !== undefined) argv.push('--gid', String(u.gid));
  if (u.groups && u.groups.length > 0) argv.push('--groups', u.groups.join(','));
  if (u.description !== undefined) argv.push('--comment', u.description);
  if (u.home) argv.push('--home-dir', u.home);
  if (u.shell) argv.push('--shell', u.shell);
  if (u.password !== undefined) argv.push('--password', u.password);
  if (u.expiredate !== undefined) argv.push('--expiredate', String(u.expiredate));
  exec([...argv, '--', name]);
  if (u.home === '') return false;
  if (u.home) return true;
  return (defs.get('CREATE_HOME') ?? 'yes').toLowerCase() !== 'no';
}

function usermod(tree: string, name: string, u: User): void {
  const argv: string[] = [];
  if (u.gid !== undefined) argv.push('--gid', String(u.gid));
  if (u.groups && u.groups.length > 0) argv.push('--groups', u.groups.join(','));
  if (u.description !== undefined) argv.push('--comment', u.description);
  if (u.home) argv.push('--home', u.home);
  if (u.shell) argv.push('--shell', u.shell);
  if (u.password !== undefined) argv.push('--password', u.password);
  if (u.expiredate !== undefined) argv.push('--expiredate', String(u.expiredate));
  if (argv.length > 0) exec(['usermod', '--root', tree, ...argv, '--', name]);
}

/** Copies `from` into `to` (which exists), keeping modes and links, all owned by uid:gid. */
function copySkel(from: string, to: string, uid: number, gid: number): void {
  for (const entry of readdirSync(from)) {
    const src = join(from, entry);
    const dst = join(to, entry);
    const st = lstatSync(src);
    if (lstatSync(dst, { throwIfNoEntry: false })) continue;
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
    } else if (st.isDirectory()) {
      mkdirSync(dst);
      copySkel(src, dst, uid, gid);
      chmodSync(dst, st.mode & 0o7777);
    } else if (st.isFile()) {
      copyFileSync(src, dst);
      chmodSync(dst, st.mode & 0o7777);
    } else {
      continue;
    }
    lchownSync(dst, uid, gid);
  }
}

/** Creates a missing home directory as mkhomedir_helper would: from /etc/skel, mode by login.defs. */
function ensureHome(tree: string, entry: PasswdEntry, defs: Map<string, string>): void {
  if (!entry.home || entry.home === '/') return;
  const home = inRoot(tree, entry.home);
  if (lstatSync(home, { throwIfNoEntry: false })) return;
  const umask = octal(defs.get('UMASK')) ?? 0o022;
  const mode = octal(defs.get('HOME_MODE')) ?? 0o777 & ~umask;
  mkdirSync(home, { recursive: true });
  chmodSync(home, mode);
  const skel = inRoot(tree, '/etc/skel');
  if (existsSync(skel)) copySkel(skel, home, entry.uid, entry.gid);
  chownSync(home, entry.uid, entry.gid);
}

function addSshKeys(tree: string, entry: PasswdEntry, keys: string[]): void {
  const home = inRoot(tree, entry.home || '/');
  if (!existsSync(home)) {
    throw new StageError(
      `cannot add SSH keys: the home directory ${entry.home} of ${entry.name} does not exist`,
    );
  }
  const sshDir = inRoot(tree, `${entry.home}/.ssh`);
  if (!existsSync(sshDir)) {
    mkdirSync(sshDir, { mode: 0o700 });
    chmodSync(sshDir, 0o700);
    chownSync(sshDir, entry.uid, entry.gid);
  }
  const file = inRoot(tree, `${entry.home}/.ssh/authorized_keys`);
  writeFileSync(file, `${keys.join('\n')}\n`, { flag: 'a', mode: 0o600 });
  chownSync(file, entry.uid, entry.gid);
  chmodSync(file, 0o600);
}

export function main(args: StageArguments<Options>): void {
  const tree = args.tree;
  const defs = loginDefs(tree);
  for (const [name, u] of Object.entries(args.options.users ?? {})) {
    const existing = passwdEntry(tree, name);
    if (existing) {
      if (u.uid !== undefined && existing.uid !== u.uid) {
        throw new StageError(
          `cannot change the UID of the existing user '${name}' from ${existing.uid} to ${u.uid}`,
        );
      }
      usermod(tree, name, u);
      const changed = passwdEntry(tree, name);
      if (changed) ensureHome(tree, changed, defs);
    } else if (useradd(tree, name, u, defs)) {
      const added = passwdEntry(tree, name);
      if (added) ensureHome(tree, added, defs);
    }
    if (u.force_password_reset) exec(['passwd', '--root', tree, '--expire', '--', name]);
    const keys = [...(u.keys ?? []), ...(u.key ? [u.key] : [])];
    if (keys.length > 0) {
      const entry = passwdEntry(tree, name);
      if (!entry) throw new StageError(`user '${name}' is missing from /etc/passwd after useradd`);
      addSshKeys(tree, entry, keys);
    }
  }
}
