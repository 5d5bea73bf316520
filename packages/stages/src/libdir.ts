/**
 * Builds the OSBuild-layout libdir: `stages/<type>` (each stage bundled by esbuild into one
 * self-contained CommonJS file with a `#!/usr/bin/env node` line and no extension) beside
 * `stages/<type>.meta.json`, and `runners/<name>`. The real `osbuild --libdir` can read it, and so
 * does the engine. The result is written to a temporary directory and renamed into place.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { loadCatalog, RUNNER_NAMES, RUNNERS_DIR } from './catalog.ts';
import { DEFAULT_LIBDIR } from './location.ts';
import { metaJsonOf } from './shared/define.ts';

const FORBIDDEN_SUFFIXES = ['.node', '.json', '.mjs', '.cjs', '.js'];

export async function buildLibdir(out: string = DEFAULT_LIBDIR): Promise<{ stages: string[] }> {
  const catalog = await loadCatalog();
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'stages'), { recursive: true });
  mkdirSync(join(tmp, 'runners'), { recursive: true });
  await Promise.all(
    catalog.map(async ({ folder, definition }) => {
      const type = definition.type;
      if (FORBIDDEN_SUFFIXES.some((s) => type.endsWith(s))) {
        throw new Error(`stage name ${type} ends in a suffix Node.js would load by extension`);
      }
      if (!existsSync(join(folder, 'stage.ts'))) throw new Error(`${folder} has no stage.ts`);
      const exe = join(tmp, 'stages', type);
      await build({
        stdin: {
          contents:
            "import { runStage } from '../../shared/run.ts';\nimport { main } from './stage.ts';\nvoid runStage(main);\n",
          resolveDir: folder,
          sourcefile: `${type}-entry.ts`,
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        // The oldest Node.js a build root has: Debian 12's nodejs (18) runs the stages there.
        target: 'node18',
        outfile: exe,
        banner: { js: '#!/usr/bin/env node' },
        legalComments: 'none',
        logLevel: 'error',
      });
      chmodSync(exe, 0o755);
      writeFileSync(
        join(tmp, 'stages', `${type}.meta.json`),
        `${JSON.stringify(metaJsonOf(definition), null, 2)}\n`,
      );
    }),
  );
  for (const name of RUNNER_NAMES) {
    copyFileSync(join(RUNNERS_DIR, 'debian'), join(tmp, 'runners', name));
    chmodSync(join(tmp, 'runners', name), 0o755);
  }
  mkdirSync(dirname(out), { recursive: true });
  const old = `${out}.old-${process.pid}`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
  return { stages: catalog.map((c) => c.definition.type) };
}
