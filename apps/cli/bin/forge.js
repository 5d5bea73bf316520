#!/usr/bin/env node
// The `forge` command. It runs the bundle in dist/ (made by `npm run build -w @debian-forge/cli`,
// which scripts/setup.sh runs) when the bundle is newer than every source file; otherwise it runs
// the TypeScript sources through tsx, so an edit takes effect at once.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bundle = join(repo, 'apps', 'cli', 'dist', 'forge.mjs');

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const group of ['apps', 'packages']) {
    for (const name of readdirSync(join(repo, group))) {
      try {
        walk(join(repo, group, name, 'src'));
      } catch {
        // a workspace without src/
      }
    }
  }
  return newest;
}

let bundled = 0;
try {
  bundled = statSync(bundle).mtimeMs;
} catch {
  // no bundle: run the sources
}
if (bundled > 0 && bundled >= newestSource()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
