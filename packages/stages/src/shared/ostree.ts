/**
 * OSTree deployments in a tree, named as OSBuild's stages name them (`deployment: {osname, ref,
 * serial}` or `{default: true}`, `osbuild/util/ostree.py`): the option's schema and its resolution
 * to the deployment directory `ostree/deploy/<osname>/deploy/<commit>.<serial>`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { z } from 'zod';
import { StageError } from './errors.ts';
import { inRoot } from './paths.ts';

const COMMIT = /^[0-9a-f]{64}$/;

/** OSBuild's `deployment` option: osname and ref (serial 0 unless given), or `default: true`. */
export const deployment = z
  .strictObject({
    osname: z.string().optional().describe('stateroot of the deployment'),
    ref: z.string().optional().describe('ostree ref (or commit) of the deployment'),
    serial: z.number().default(0).describe('deployment serial'),
    default: z.boolean().default(false).describe('use the only deployment found in the tree'),
  })
  .meta({
    oneOf: [
      { properties: { default: { enum: [false] } }, required: ['osname', 'ref'] },
      {
        properties: { default: { enum: [true] } },
        not: { anyOf: [{ required: ['osname'] }, { required: ['ref'] }, { required: ['serial'] }] },
      },
    ],
  });

export type Deployment = z.input<typeof deployment>;

/** The commit a ref names in the tree's ostree repo: a checksum, `refs/heads/…` or `remote:ref`. */
export function resolveRef(tree: string, ref: string): string {
  if (COMMIT.test(ref)) return ref;
  const repo = '/ostree/repo';
  const colon = ref.indexOf(':');
  const candidates =
    colon >= 0
      ? [`refs/remotes/${ref.slice(0, colon)}/${ref.slice(colon + 1)}`]
      : [`refs/heads/${ref}`, `refs/mirrors/${ref}`];
  if (colon < 0) {
    const remotes = inRoot(tree, `${repo}/refs/remotes`);
    if (existsSync(remotes))
      for (const r of readdirSync(remotes).sort()) candidates.push(`refs/remotes/${r}/${ref}`);
  }
  for (const c of candidates) {
    const file = inRoot(tree, `${repo}/${c}`);
    if (!existsSync(file)) continue;
    const commit = readFileSync(file, 'utf8').trim();
    if (COMMIT.test(commit)) return commit;
  }
  throw new StageError(`ostree ref '${ref}' not found in the tree's ostree repo`);
}

export interface DeploymentRoot {
  osname: string;
  /** Tree-relative: `/ostree/deploy/<osname>/deploy/<commit>.<serial>`. */
  path: string;
}

/** The deployment the option names, relative to the tree. */
export function deploymentRoot(tree: string, d: Deployment): DeploymentRoot {
  if (d.default) {
    const found: DeploymentRoot[] = [];
    const deploy = inRoot(tree, '/ostree/deploy');
    for (const osname of existsSync(deploy) ? readdirSync(deploy).sort() : []) {
      const dir = inRoot(tree, `/ostree/deploy/${osname}/deploy`);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).sort()) {
        if (/^[0-9a-f]{64}\.0$/.test(name))
          found.push({ osname, path: `/ostree/deploy/${osname}/deploy/${name}` });
      }
    }
    if (found.length !== 1) {
      throw new StageError(
        found.length === 0
          ? 'no ostree deployment found'
          : `more than one ostree deployment: ${found.map((f) => f.path).join(', ')}`,
      );
    }
    return found[0] as DeploymentRoot;
  }
  if (!d.osname || !d.ref)
    throw new StageError('an ostree deployment needs osname and ref, or default: true');
  if (!/^\w[\w.-]*$/.test(d.osname)) throw new StageError(`invalid osname '${d.osname}'`);
  const path = posix.join(
    '/ostree/deploy',
    d.osname,
    'deploy',
    `${resolveRef(tree, d.ref)}.${d.serial ?? 0}`,
  );
  return { osname: d.osname, path };
}
