/**
 * How to start this `forge` again, for the workers it starts (`forge serve --workers`, `forge
 * worker`), which run `forge build` with it. bin/forge.js is one directory above both src/ (the
 * sources) and dist/ (the bundle), so this file finds it from either.
 */
import { resolve } from 'node:path';

export const FORGE_SELF: readonly string[] = [
  process.execPath,
  resolve(import.meta.dirname, '../bin/forge.js'),
];
