/**
 * How the compose service makes a compose's plan (manifest, exports, packages): the planner it is
 * given, the real one over apt, and the target of a recorded compose for planning it again.
 */
import { validateBlueprint } from '@debian-forge/blueprint';
import {
  aptResolver,
  type ComposePlan,
  type ComposeTarget,
  type ComposeTargetResolved,
  type PlanResolver,
  planCompose,
} from '@debian-forge/composer';
import type { Compose, Store } from '@debian-forge/store';
import { sourceRepository, sourcesFor, storedSource } from './sources.ts';

/**
 * Makes the plan of a compose (PENDING) from its target, resolved when the compose was recorded;
 * `log` adds a line of the service's own to the compose's log.
 */
export type ComposePlanner = (
  target: ComposeTargetResolved,
  log?: (text: string) => void,
) => Promise<ComposePlan>;

/**
 * The real planner: packages/composer's planCompose with apt roots under `stateDir`, the host's
 * Debian mirror plus the store's user sources for the compose's distro (as the package routes see
 * them); a stored source that breaks the source rule is left out, with a line in the compose's log.
 * With `hostBuildRoot` its manifests name no build pipeline: the workers' host tools build them.
 * A blueprint's source package paths must lie in `sourceDirs` (none by default: no paths).
 */
export function aptPlanner(
  stateDir: string,
  store: Store,
  options: { hostBuildRoot?: boolean; sourceDirs?: readonly string[] } = {},
): ComposePlanner {
  return async (target, log) => {
    // A resolver per compose: it updates the apt lists once they are stale (an hour), where one
    // kept for the life of the service would keep its first lists.
    const resolver: PlanResolver = aptResolver(stateDir);
    const { distro } = target;
    const extraRepositories = sourcesFor(store.sources.list(), distro, (s, problem) =>
      log?.(`source ${JSON.stringify(s.name)} left out: ${problem}`),
    )
      .filter((s) => !s.system)
      .map((s) => sourceRepository(storedSource(s), distro));
    return planCompose(target, {
      resolver,
      extraRepositories,
      hostBuildRoot: options.hostBuildRoot === true,
      localSourceDirs: options.sourceDirs ?? [],
    });
  };
}

/**
 * The target of a recorded compose, for planning it again after a restart. Its blueprint was
 * checked when the compose was recorded and is checked again here (a row is data from disk): a
 * stored blueprint that no longer passes fails the compose with the blueprint's issues.
 */
export function targetOf(
  compose: Pick<Compose, 'blueprint' | 'blueprintName' | 'imageType' | 'distro' | 'arch' | 'size' | 'ostree'>,
): ComposeTarget {
  const { ref, parent, url } = compose.ostree;
  return {
    blueprint: validateBlueprint(compose.blueprint ?? { name: compose.blueprintName }),
    imageType: compose.imageType,
    distro: compose.distro,
    arch: compose.arch,
    size: compose.size,
    ostree: { ...(ref ? { ref } : {}), ...(parent ? { parent } : {}), ...(url ? { url } : {}) },
  };
}
