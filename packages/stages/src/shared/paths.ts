/**
 * Locations and paths inside the tree. `parseLocation` resolves OSBuild's location URLs
 * (`tree:///p`, `mount://name/p`, `input://name/p`; no scheme means `tree://`), and `inRoot`
 * resolves a path as if `root` were `/`: `..` stops at the root and symbolic links, absolute ones
 * included, are followed inside the root, so no stage option can reach a file outside its tree.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { StageArguments } from './arguments.ts';
import { StageError } from './errors.ts';

export interface Location {
  /** The root the location is relative to (the tree, a mount or an input). */
  root: string;
  /** The path inside that root, absolute (starts with `/`). */
  path: string;
}

export function splitLocation(
  location: string,
  args: Pick<StageArguments, 'tree' | 'inputs' | 'mounts' | 'paths'>,
): Location {
  const url = location.includes('://') ? location : `tree://${location}`;
  const m = /^([a-z]+):\/\/([^/]*)(.*)$/.exec(url);
  if (!m) throw new StageError(`invalid location '${location}'`);
  const [, scheme, name = '', rest = ''] = m;
  let root: string;
  if (scheme === 'tree') {
    root = args.tree;
  } else if (scheme === 'mount') {
    const found = name ? args.mounts[name]?.path : args.paths.mounts;
    if (!found) throw new StageError(`unknown mount '${name}' in location '${location}'`);
    root = found;
  } else if (scheme === 'input') {
    const found = args.inputs[name]?.path;
    if (!found) throw new StageError(`unknown input '${name}' in location '${location}'`);
    root = found;
  } else {
    throw new StageError(`unsupported scheme '${scheme}' in location '${location}'`);
  }
  if (!rest.startsWith('/')) throw new StageError(`the path of location '${location}' must start with '/'`);
  return { root, path: decodeURIComponent(rest) };
}

/** The host path of a location, resolved inside its root (see `inRoot`). */
export function parseLocation(
  location: string,
  args: Pick<StageArguments, 'tree' | 'inputs' | 'mounts' | 'paths'>,
  followLast = true,
): string {
  const { root, path } = splitLocation(location, args);
  return inRoot(root, path, followLast);
}

const MAX_LINKS = 40;

/**
 * `path` resolved with `root` as `/`. Missing components are fine (the result names where a file
 * would be created). With `followLast` false, a final symbolic link is not followed (for lchown,
 * unlink, ln).
 */
export function inRoot(root: string, path: string, followLast = true): string {
  const todo = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = posix.join(root, ...done, part);
    if (todo.length === 0 && !followLast) {
      done.push(part);
      break;
    }
    let target: string | undefined;
    try {
      if (lstatSync(candidate).isSymbolicLink()) target = readlinkSync(candidate);
    } catch {
      // does not exist (yet): keep the name as it is
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new StageError(`too many levels of symbolic links in '${path}'`);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter(Boolean));
  }
  return posix.join(root, ...done);
}
