/** `org.osbuild.noop`: only the mount point, made below the mount root; OSBuild's index has no schema for it. */
import { mkdirSync } from 'node:fs';
import { type MountModule, mountPoint } from './common.ts';

export default {
  type: 'org.osbuild.noop',
  mount: async (name, mount, _devices, ctx) => {
    const path = mountPoint(name, mount.target, ctx.root);
    mkdirSync(path, { recursive: true });
    return { name, path, close: async () => {} };
  },
} satisfies MountModule;
