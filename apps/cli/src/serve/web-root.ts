/**
 * Where the built web UI is: `dist/web` (and the Cockpit page, `dist/cockpit`) of the web package, found as Node finds any dependency,
 * so the sources and the bundled forge command (apps/cli/dist) find the same directory.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function webDist(): string {
  const manifest = createRequire(import.meta.url).resolve('@debian-forge/web/package.json');
  return join(dirname(manifest), 'dist');
}

export function defaultWebRoot(): string {
  return join(webDist(), 'web');
}

/** The built Cockpit page, which `forge cockpit-page install` copies. */
export function builtCockpitPage(): string {
  return join(webDist(), 'cockpit');
}
