/**
 * Bundles the `forge` command into dist/ (one ES module plus a chunk per verb, loaded when the verb
 * runs) so it starts without compiling TypeScript. bin/forge.js uses the bundle when it is newer
 * than every source file, and runs the sources through tsx otherwise. Run by scripts/setup.sh.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const dist = join(import.meta.dirname, 'dist');
const tmp = `${dist}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
await build({
  entryPoints: { forge: join(import.meta.dirname, 'src/entry.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: tmp,
  outExtension: { '.js': '.mjs' },
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __forgeRequire } from 'node:module';\nconst require = __forgeRequire(import.meta.url);",
  },
  // Loaded from node_modules at run time: better-sqlite3 is a native addon, and swagger-ui serves
  // the files of its package directory (/docs), which a bundle would not have.
  external: ['better-sqlite3', '@fastify/swagger-ui'],
  legalComments: 'none',
  logLevel: 'error',
});
writeFileSync(join(tmp, 'package.json'), '{"type": "module"}\n');
rmSync(dist, { recursive: true, force: true });
const { renameSync } = await import('node:fs');
renameSync(tmp, dist);
process.stdout.write(`forge: bundled into ${dist}\n`);
