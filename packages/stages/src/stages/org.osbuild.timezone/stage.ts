import { closeSync, openSync, readSync, statSync, symlinkSync } from 'node:fs';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { removeFile, replaceFile } from '../../shared/config-file.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

/** The syntax systemd's `timezone_is_valid` accepts. */
export function isZoneName(zone: string): boolean {
  return /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(zone) && zone.length < 4096;
}

function isTzif(file: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(file).isFile()) return false;
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === 'TZif';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The zoneinfo directory to check the zone against: the tree's when it has one, else the build
 * root's (`buildRoot`, `/` in the sandbox); undefined when neither has one.
 */
function zoneinfoDir(tree: string, buildRoot: string): string | undefined {
  for (const dir of [inRoot(tree, '/usr/share/zoneinfo'), inRoot(buildRoot, '/usr/share/zoneinfo')]) {
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return dir;
  }
  return undefined;
}

export function main(args: StageArguments<z.input<typeof options>>, buildRoot = '/'): void {
  const zone = args.options.zone;
  if (zone !== 'UTC') {
    if (!isZoneName(zone)) throw new StageError(`'${zone}' is not a valid time zone name`);
    const dir = zoneinfoDir(args.tree, buildRoot);
    if (dir === undefined) {
      process.stdout.write(`no /usr/share/zoneinfo to check '${zone}' against, writing it unchecked\n`);
    } else if (!isTzif(inRoot(dir, zone))) {
      throw new StageError(`unknown time zone '${zone}': no zone file ${dir}/${zone}`);
    }
  }
  replaceFile(args.tree, '/etc/timezone', `${zone}\n`);
  removeFile(args.tree, '/etc/localtime');
  symlinkSync(`../usr/share/zoneinfo/${zone}`, inRoot(args.tree, '/etc/localtime', false));
}
