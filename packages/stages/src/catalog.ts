/**
 * The stages this package ships: every folder under `src/stages/` holding a `schema.ts` (the
 * definition) and a `stage.ts` (the implementation, exporting `main`). Found by listing, so a new
 * stage needs no registration anywhere else.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StageDefinition } from './shared/define.ts';

export const STAGES_DIR = join(import.meta.dirname, 'stages');
export const RUNNERS_DIR = join(import.meta.dirname, 'runners');

/** Runner names this package installs, all the Debian runner: OSBuild picks by distro and version. */
export const RUNNER_NAMES = ['org.osbuild.debian', 'org.osbuild.debian12', 'org.osbuild.debian13'];

export interface CatalogEntry {
  folder: string;
  definition: StageDefinition;
}

export function stageFolders(): string[] {
  return readdirSync(STAGES_DIR)
    .filter((name) => existsSync(join(STAGES_DIR, name, 'schema.ts')))
    .sort();
}

export async function loadCatalog(): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  for (const name of stageFolders()) {
    const folder = join(STAGES_DIR, name);
    const mod = (await import(join(folder, 'schema.ts'))) as { default: StageDefinition };
    entries.push({ folder, definition: mod.default });
  }
  return entries;
}
