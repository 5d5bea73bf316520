/**
 * `org.osbuild.bind` (OSBuild's `mounts/org.osbuild.bind`): a recursive bind mount of
 * `options.source`, a `tree://` or `mount://` location, onto the target.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Mount } from '@debian-forge/manifest';
import { unmount } from '../crash-registry.ts';
import { run } from '../exec.ts';
import { inside } from '../paths.ts';
import {
  type MountContext,
  type MountHandle,
  type MountModule,
  mountError,
  mountPoint,
  once,
} from './common.ts';

const SCHEMA2 = {
  additionalProperties: false,
  required: ['name', 'type', 'target'],
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
    target: { type: 'string' },
    options: { type: 'object', required: ['source'], properties: { source: { type: 'string' } } },
  },
};

/** A `tree://…` or `mount://…` location (a plain path means `tree://`), as a host path. */
function resolveLocation(name: string, location: string, ctx: MountContext): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(location);
  const scheme = m ? m[1] : 'tree';
  const rel = m ? join(m[2] ?? '', m[3] ?? '') : location;
  let base: string;
  if (scheme === 'tree') base = ctx.tree;
  else if (scheme === 'mount') base = ctx.root;
  else throw mountError(name, `unsupported location scheme ${scheme}:// in ${location}`);
  return inside(base, rel, { what: 'location', relative: true }, (message, cause) =>
    mountError(name, `${location} lies outside its root: ${message}`, cause),
  );
}

/** `org.osbuild.bind`: a recursive bind mount of `options.source` onto the target. */
async function mountBind(name: string, mount: Mount, ctx: MountContext): Promise<MountHandle> {
  const sourceLocation = mount.options?.source;
  if (typeof sourceLocation !== 'string') throw mountError(name, 'org.osbuild.bind needs options.source');
  const source = resolveLocation(name, sourceLocation, ctx);
  if (!existsSync(source))
    throw mountError(name, `the bind source ${sourceLocation} (${source}) does not exist`);
  const target = mount.target?.includes('://')
    ? resolveLocation(name, mount.target, ctx)
    : mountPoint(name, mount.target, ctx.root);
  if (!existsSync(target)) {
    if (statSync(source).isDirectory()) mkdirSync(target, { recursive: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, '');
    }
  }
  ctx.log(`bind-mounting ${source} -> ${target}`);
  ctx.registry.addMount(target);
  try {
    await run(['mount', '--rbind', source, target]);
  } catch (e) {
    ctx.registry.removeMount(target);
    throw mountError(name, `cannot bind-mount ${source} on ${target}: ${(e as Error).message}`, e);
  }
  return {
    name,
    path: target,
    close: once(async () => {
      await unmount(target, { log: ctx.log, recursive: true });
      ctx.registry.removeMount(target);
    }),
  };
}

export default {
  type: 'org.osbuild.bind',
  schema2: SCHEMA2,
  mount: (name, mount, _devices, ctx) => mountBind(name, mount, ctx),
} satisfies MountModule;
