/**
 * Where the built web UI is: `dist/web` of the web package, found as Node finds any dependency,
 * so the sources and the bundled forge command (apps/cli/dist) find the same directory.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function defaultWebRoot(): string {
  const manifest = createRequire(import.meta.url).resolve('@debian-forge/web/package.json');
  return join(dirname(manifest), 'dist', 'web');
}
