import { lstatSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { replaceFile } from '../../shared/config-file.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

/** systemd's `hostname_is_valid` with a trailing dot allowed, which is then dropped; else undefined. */
export function cleanHostname(name: string): string | undefined {
  const host = name.endsWith('.') ? name.slice(0, -1) : name;
  if (host.length === 0 || host.length > 64) return undefined;
  const labels = host.split('.');
  return labels.every((l) => /^[A-Za-z0-9_-]+$/.test(l)) ? host : undefined;
}

/**
 * /etc/hosts with `host` on Debian's 127.0.1.1 line, as debian-installer writes it (without it
 * `sudo` and other programs that resolve the host name wait and warn): an existing 127.0.1.1 line
 * gets the new names; else, unless some line names the host already, one is added after the
 * 127.0.0.1 line (or at the end). A fully qualified name is followed by its short name.
 */
export function hostsWithName(hosts: string, host: string): string {
  const short = host.split('.')[0] as string;
  const entry = `127.0.1.1\t${short === host ? host : `${host} ${short}`}`;
  const lines = hosts.split('\n');
  const fields = (line: string) => line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
  const own = lines.findIndex((l) => fields(l)[0] === '127.0.1.1');
  if (own >= 0) {
    lines[own] = entry;
    return lines.join('\n');
  }
  if (lines.some((l) => fields(l).slice(1).includes(host))) return hosts;
  const loopback = lines.findIndex((l) => fields(l)[0] === '127.0.0.1');
  if (loopback >= 0) lines.splice(loopback + 1, 0, entry);
  else if (lines[lines.length - 1] === '') lines.splice(lines.length - 1, 0, entry);
  else lines.push(entry);
  return lines.join('\n');
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const host = cleanHostname(args.options.hostname);
  if (host === undefined) throw new StageError(`'${args.options.hostname}' is not a valid host name`);
  replaceFile(args.tree, '/etc/hostname', `${host}\n`);
  // Only a regular /etc/hosts (netbase's) is updated: none is made, and a link is not written through.
  const hosts = inRoot(args.tree, '/etc/hosts', false);
  let isFile = false;
  try {
    isFile = lstatSync(hosts).isFile();
  } catch {
    // No /etc/hosts in this tree.
  }
  if (isFile) {
    const before = readFileSync(hosts, 'utf8');
    const after = hostsWithName(before, host);
    if (after !== before) replaceFile(args.tree, '/etc/hosts', after);
  }
}
