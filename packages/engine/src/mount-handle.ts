/**
 * What a mount type is given (`MountContext`) and gives back (`MountHandle`), in a module of its
 * own so mounts.ts and the mount types it hands on to (mounts-ostree.ts) import it, not each other.
 */
import type { ResourceRegistry } from './resources.ts';

export interface MountHandle {
  /** The mount's name in the stage. */
  name: string;
  /** Host path of the mount point. */
  path: string;
  /** The stage gets no path for it (`{}` in its arguments), as OSBuild's deployment mount. */
  hidden?: boolean;
  /** Syncs and unmounts (lazily if it stays busy); idempotent. */
  close(): Promise<void>;
}

export interface MountContext {
  /** The directory the sandbox sees as /run/osbuild/mounts. */
  root: string;
  /** The pipeline's tree (for `tree://` locations of bind mounts). */
  tree: string;
  registry: ResourceRegistry;
  log(line: string): void;
}
