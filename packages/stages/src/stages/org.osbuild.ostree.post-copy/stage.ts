import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { attempt, exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Want = 'yes' | 'maybe' | 'no';

/** A GKeyFile (ostree's repo config): section → key → value. */
export function parseKeyFile(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1] as string) ?? new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}

function tristate(value: string | undefined, fallback: Want, key: string): Want {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true' || v === '1') return 'yes';
  if (v === 'no' || v === 'false' || v === '0') return 'no';
  if (v === 'maybe') return 'maybe';
  throw new StageError(`invalid value '${value}' for ${key} in the repository config`);
}

/** Whether the repository asks for fs-verity, read as ostree reads its config. */
export function fsverityWanted(config: string): Want {
  const keys = parseKeyFile(config);
  const integrity = keys.get('integrity');
  const composefs = tristate(integrity?.get('composefs'), 'no', 'integrity.composefs');
  const fsverity = tristate(
    integrity?.get('fsverity'),
    composefs === 'no' ? 'no' : 'maybe',
    'integrity.fsverity',
  );
  if (fsverity !== 'no') return fsverity;
  const ex = keys.get('ex-fsverity');
  if (tristate(ex?.get('required'), 'no', 'ex-fsverity.required') === 'yes') return 'yes';
  if (tristate(ex?.get('opportunistic'), 'no', 'ex-fsverity.opportunistic') === 'yes') return 'maybe';
  return 'no';
}

const UNSUPPORTED = /Operation not supported|Inappropriate ioctl for device/;

/**
 * Enables fs-verity on each regular file; false when the file system cannot (the rest are skipped,
 * as ostree skips them).
 */
function enableVerity(files: string[], want: Want): boolean {
  for (const file of files) {
    if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    const r = attempt(['fsverity', 'enable', '--hash-alg=sha256', '--block-size=4096', file]);
    if (r.status === 0 || /File exists/.test(r.stderr)) continue;
    if (UNSUPPORTED.test(r.stderr)) {
      if (want === 'yes')
        throw new StageError(`fs-verity is required, but the file system of ${file} lacks it`);
      process.stdout.write('the file system has no fs-verity; skipping the rest\n');
      return false;
    }
    throw new StageError(`fsverity enable ${file} failed: ${r.stderr.trim() || `exit status ${r.status}`}`);
  }
  return true;
}

/** Deployment directories of the system root: ostree/deploy/<osname>/deploy/<commit>.<serial>. */
function deployments(sysroot: string): string[] {
  const found: string[] = [];
  const base = join(sysroot, 'ostree/deploy');
  for (const osname of existsSync(base) ? readdirSync(base).sort() : []) {
    const dir = join(base, osname, 'deploy');
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (/^[0-9a-f]{64}\.\d+$/.test(name) && lstatSync(path).isDirectory()) found.push(path);
    }
  }
  return found;
}

export function main(args: StageArguments<z.input<typeof options>>): void {
  const root = args.paths.mounts;
  const sysroot = args.options.sysroot ? inRoot(root, args.options.sysroot) : root;
  const repo = join(sysroot, 'ostree/repo');
  if (!existsSync(join(repo, 'config')))
    throw new StageError(`no OSTree system root at ${args.options.sysroot ?? '/'} of the mounts`);
  const found = deployments(sysroot);

  const want = fsverityWanted(readFileSync(join(repo, 'config'), 'utf8'));
  if (want !== 'no') {
    const objects: string[] = [];
    const dir = join(repo, 'objects');
    for (const prefix of existsSync(dir) ? readdirSync(dir).sort() : []) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of readdirSync(join(dir, prefix)).sort()) objects.push(join(dir, prefix, name));
    }
    process.stdout.write(`fs-verity (${want}): ${objects.length} loose objects\n`);
    if (enableVerity(objects, want))
      enableVerity(
        found.map((d) => join(d, '.ostree.cfs')),
        want,
      );
  }

  for (const deployment of found) {
    process.stdout.write(`immutable: ${deployment.slice(sysroot.length)}\n`);
    exec(['chattr', '+i', deployment]);
  }
}
