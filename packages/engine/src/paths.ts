/**
 * Paths the engine makes from what a manifest names (input names, files in a tree, mount targets,
 * device files, exports) go through the manifest package's `joinInside`: the name is checked and
 * no symbolic link a stage left in a tree can lead the host side out of it. Its refusal becomes the
 * caller's own error (a device, mount or input error of the stage), so the stage fails as usual.
 */
import { type InsideOptions, joinInside, ManifestError } from '@debian-forge/manifest';

export function inside(
  dir: string,
  path: string,
  options: InsideOptions,
  fail: (message: string, cause: unknown) => Error,
): string {
  try {
    return joinInside(dir, path, options);
  } catch (err) {
    if (err instanceof ManifestError) throw fail(err.message, err);
    throw err;
  }
}
