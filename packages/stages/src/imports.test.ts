/**
 * A stage stands alone: what its `schema.ts` and `stage.ts` reach, followed through every import as
 * the libdir build bundles them, is its own folder, the shared folder (not its test helpers), zod
 * and `node:*` modules. A helper two stages need goes to `shared/`, never into another stage's
 * folder, so a stage can be read, moved or removed on its own.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from 'esbuild';
import { STAGES_DIR, stageFolders } from './catalog.ts';

const SHARED_DIR = join(import.meta.dirname, 'shared');

/** The modules the entry files of `folder` reach that a stage may not import, as paths or specifiers. */
async function foreignImports(folder: string, sharedDir: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(folder, 'schema.ts'), join(folder, 'stage.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    outdir: join(folder, 'out'),
    logLevel: 'silent',
  });
  const inside = (file: string, dir: string) => file.startsWith(`${dir}${sep}`);
  const foreign = new Set<string>();
  for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
    const file = resolve(input);
    const allowed =
      inside(file, folder) ||
      (inside(file, sharedDir) && !file.endsWith('.fixture.ts')) ||
      file.includes(`${sep}node_modules${sep}zod${sep}`);
    if (!allowed) foreign.add(relative(folder, file));
    for (const i of imports) if (i.external && !i.path.startsWith('node:')) foreign.add(i.path);
  }
  return [...foreign].sort();
}

describe('stage imports', () => {
  for (const name of stageFolders()) {
    it(`${name} imports only its own files, shared/, zod and node:*`, async () => {
      assert.deepEqual(await foreignImports(join(STAGES_DIR, name), SHARED_DIR), []);
    });
  }

  const tree = mkdtempSync(join(tmpdir(), 'forge-stage-imports-'));
  after(() => rmSync(tree, { recursive: true, force: true }));

  it('names an import of another stage, a shared test helper and a bare builtin', async () => {
    const write = (path: string, text: string) => {
      mkdirSync(join(tree, path, '..'), { recursive: true });
      writeFileSync(join(tree, path), text);
    };
    write('shared/ok.ts', 'export const ok = 1;\n');
    write('shared/helper.fixture.ts', 'export const helper = 1;\n');
    write('stages/b/util.ts', 'export const b = 1;\n');
    write(
      'stages/a/schema.ts',
      "import { ok } from '../../shared/ok.ts';\nimport { b } from '../b/util.ts';\nexport default [ok, b];\n",
    );
    write(
      'stages/a/stage.ts',
      "import { readFileSync } from 'fs';\nimport { helper } from '../../shared/helper.fixture.ts';\nexport const main = [readFileSync, helper];\n",
    );
    assert.deepEqual(await foreignImports(join(tree, 'stages', 'a'), join(tree, 'shared')), [
      join('..', '..', 'shared', 'helper.fixture.ts'),
      join('..', 'b', 'util.ts'),
      'fs',
    ]);
  });
});
