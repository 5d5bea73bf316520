/**
 * The mount `org.osbuild.ostree.deployment` (OSBuild's `mounts/org.osbuild.ostree.deployment`):
 * makes a tree holding an OSTree system root look like the booted deployment, as ostree-prepare-root
 * arranges it at boot, so the stage that follows (fstab, users, …) works on the deployment. With
 * `source: "tree"` (the default) the pipeline's tree is the system root and becomes the deployment;
 * with `source: "mount"` it is the mount root, which a mount before this one must have filled.
 *
 * Steps, as OSBuild takes them: the target is bound onto itself as a private mount (a mount cannot
 * be moved from under a shared one), the deployment directory is bound onto itself, the system root
 * is bound at its /sysroot, the stateroot's var at its /var, the system root's /boot at its /boot,
 * and the deployment is moved onto the target. Closing unmounts the target recursively until only
 * what was mounted there before is left. Each mount point is recorded in the `ResourceRegistry` before it is
 * mounted, so a killed engine's mounts are released by the next one.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount } from '@debian-forge/manifest';
import { mountPoints } from '../crash-registry.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { run } from '../exec.ts';
import { inside } from '../paths.ts';
import type { MountContext, MountHandle, MountModule } from './common.ts';

const OSTREE_DEPLOYMENT_MOUNT = 'org.osbuild.ostree.deployment';

interface DeploymentOption {
  osname?: unknown;
  ref?: unknown;
  serial?: unknown;
  default?: unknown;
}

function fail(name: string, message: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.Mount, `mount ${name}: ${message}`, cause ? { cause } : undefined);
}

/**
 * `rel` in the system root `root`, refused when a link there leads out: the binds below follow
 * links, and the tree is what the stages before made of it.
 */
function under(name: string, root: string, rel: string): string {
  return inside(root, rel, { what: 'path', relative: true }, (message, cause) => fail(name, message, cause));
}

/** The deployment directory (host path) and stateroot the option names in the system root `root`. */
export async function findDeployment(
  name: string,
  root: string,
  option: DeploymentOption,
): Promise<{ path: string; osname: string }> {
  if (option.default === true) {
    const found: { path: string; osname: string }[] = [];
    const base = under(name, root, 'ostree/deploy');
    for (const osname of existsSync(base) ? readdirSync(base).sort() : []) {
      const dir = under(name, root, `ostree/deploy/${osname}/deploy`);
      for (const entry of existsSync(dir) ? readdirSync(dir).sort() : []) {
        if (entry.endsWith('.0'))
          found.push({ path: under(name, root, `ostree/deploy/${osname}/deploy/${entry}`), osname });
      }
    }
    if (found.length !== 1)
      throw fail(
        name,
        found.length === 0
          ? `no ostree deployment in ${root}`
          : `more than one ostree deployment: ${found.map((f) => f.path).join(', ')}`,
      );
    return found[0] as { path: string; osname: string };
  }
  const { osname, ref } = option;
  const serial = option.serial ?? 0;
  if (typeof osname !== 'string' || !/^\w[\w.-]*$/.test(osname))
    throw fail(name, `invalid osname ${JSON.stringify(osname)}`);
  if (typeof ref !== 'string' || ref === '' || ref.startsWith('-'))
    throw fail(name, `invalid ref ${JSON.stringify(ref)}`);
  if (!Number.isInteger(serial) || (serial as number) < 0)
    throw fail(name, `invalid serial ${JSON.stringify(serial)}`);
  const repo = under(name, root, 'ostree/repo');
  let commit: string;
  try {
    commit = (await run(['ostree', 'rev-parse', `--repo=${repo}`, ref])).stdout.trim();
  } catch (e) {
    throw fail(name, `cannot resolve the ref ${ref}: ${(e as Error).message}`, e);
  }
  return { path: under(name, root, `ostree/deploy/${osname}/deploy/${commit}.${serial}`), osname };
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

async function mountDeployment(name: string, mount: Mount, ctx: MountContext): Promise<MountHandle> {
  const options = (mount.options ?? {}) as { source?: unknown; deployment?: unknown };
  const source = options.source ?? 'tree';
  if (source !== 'tree' && source !== 'mount') throw fail(name, `invalid source ${JSON.stringify(source)}`);
  if (!options.deployment || typeof options.deployment !== 'object')
    throw fail(name, `${OSTREE_DEPLOYMENT_MOUNT} needs options.deployment`);
  const target = source === 'mount' ? ctx.root : ctx.tree;
  const deployment = await findDeployment(name, target, options.deployment as DeploymentOption);
  if (!isDirectory(deployment.path)) throw fail(name, `no deployment at ${deployment.path}`);
  const stateVar = under(name, target, `ostree/deploy/${deployment.osname}/var`);
  const binds: [string, string][] = [
    [target, under(name, deployment.path, 'sysroot')],
    [stateVar, under(name, deployment.path, 'var')],
    [under(name, target, 'boot'), under(name, deployment.path, 'boot')],
  ];
  for (const [from, to] of binds) {
    if (!isDirectory(from)) throw fail(name, `${from} is not a directory`);
    if (!isDirectory(to)) throw fail(name, `the deployment has no mount point ${to}`);
  }

  // Mounts stacked on the target before this one (a `source: "mount"` target is a mount itself).
  const layers = () => mountPoints().filter((p) => p === realpathSync(target)).length;
  const below = layers();
  const recorded: string[] = [];
  const bind = async (from: string, to: string) => {
    ctx.registry.addMount(to);
    recorded.push(to);
    await run(['mount', '--bind', '--make-private', from, to]);
  };
  const release = async () => {
    if (layers() > below) {
      try {
        await run(['sync', '--file-system', target]);
      } catch (e) {
        ctx.log(`sync of ${target} failed: ${(e as Error).message}`);
      }
    }
    // Each round takes the top mount at the target with everything mounted below it; ours are two.
    for (let round = 0; layers() > below; round++) {
      if (round === 4) throw fail(name, `cannot unmount the deployment from ${target}`);
      await run(['umount', '--recursive', target]);
    }
    for (const path of recorded.reverse()) ctx.registry.removeMount(path);
    recorded.length = 0;
  };

  ctx.log(`deployment root at ${deployment.path.slice(target.length) || '/'}; mounting it on ${target}`);
  try {
    await bind(target, target);
    await bind(deployment.path, deployment.path);
    for (const [from, to] of binds) await bind(from, to);
    // Once moved, the deployment's mounts sit at the target; recorded there before the move.
    for (const sub of ['', 'sysroot', 'var', 'boot']) {
      const path = join(target, sub);
      ctx.registry.addMount(path);
      recorded.push(path);
    }
    await run(['mount', '--move', deployment.path, target]);
  } catch (e) {
    await release().catch((r) => ctx.log(`cleaning up after the failed mount: ${(r as Error).message}`));
    if (e instanceof EngineError && e.code === EngineErrorCode.Mount) throw e;
    throw fail(name, `cannot mount the deployment ${deployment.path}: ${(e as Error).message}`, e);
  }

  let closing: Promise<void> | undefined;
  return {
    name,
    path: target,
    hidden: true,
    close: () => {
      closing ??= release().catch((e) => {
        closing = undefined;
        throw e;
      });
      return closing;
    },
  };
}

export default {
  type: OSTREE_DEPLOYMENT_MOUNT,
  schema2: {
    additionalProperties: false,
    required: ['name', 'type'],
    properties: {
      name: { type: 'string' },
      type: { type: 'string' },
      options: {
        type: 'object',
        required: ['deployment'],
        properties: {
          source: { type: 'string', pattern: '^(mount|tree)$', default: 'tree' },
          deployment: {
            type: 'object',
            additionalProperties: false,
            oneOf: [
              { properties: { default: { enum: [false] } }, required: ['osname', 'ref'] },
              {
                properties: { default: { enum: [true] } },
                not: { anyOf: [{ required: ['osname'] }, { required: ['ref'] }, { required: ['serial'] }] },
              },
            ],
            properties: {
              osname: { type: 'string' },
              ref: { type: 'string' },
              serial: { type: 'number', default: 0 },
              default: { type: 'boolean', default: false },
            },
          },
        },
      },
    },
  },
  mount: (name, mount, _devices, ctx) => mountDeployment(name, mount, ctx),
} satisfies MountModule;
