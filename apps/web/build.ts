/**
 * Bundles the web UI twice from the same sources, so nothing is fetched at run time:
 *
 * - `dist/web/`: what `forge serve` serves at `/` (index.html) and `/ui/` (the script, the style
 *   sheet and PatternFly's fonts, each named by its content hash so they can be cached for good);
 * - `dist/cockpit/`: a Cockpit page (manifest.json, index.html, the bundle), which reaches the
 *   service's unix socket through Cockpit's bridge (`forge cockpit-page` installs it).
 *
 * Run by scripts/setup.sh when a source changed; the output replaces the old one at once.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';

const here = import.meta.dirname;
const dist = join(here, 'dist');
const tmp = `${dist}.tmp-${process.pid}`;

const loaders = {
  '.woff2': 'file',
  '.woff': 'file',
  '.ttf': 'file',
  '.svg': 'file',
  '.png': 'file',
  '.jpg': 'file',
} as const;

/**
 * zod (the blueprint schema the editor checks fields with) re-exports the messages of every
 * language it has as `z.locales`: 0.26 MB of the bundle, minified, of which nothing uses more
 * than the English messages zod sets by default. Its two re-exports become that one language.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](?:classic|core)[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: args.path,
    }));
  },
};

/** Bundles one entry point into `outdir`; returns the output files of the entry (script, style). */
async function bundle(entry: string, outdir: string, names: string): Promise<{ js: string; css: string }> {
  const result = await build({
    entryPoints: { app: join(here, 'src', entry) },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    outdir,
    entryNames: names,
    assetNames: 'assets/[name]-[hash]',
    loader: loaders,
    jsx: 'automatic',
    minify: true,
    sourcemap: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
    plugins: [zodEnglishOnly],
  });
  return entryOutputs(result.metafile, outdir);
}

function entryOutputs(metafile: Metafile, outdir: string): { js: string; css: string } {
  let js = '';
  let css = '';
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!output.entryPoint || !file.endsWith('.js')) continue;
    js = basename(file);
    css = output.cssBundle ? basename(output.cssBundle) : '';
  }
  if (!js || !css) throw new Error(`web build: no script or style sheet in ${outdir}`);
  return { js, css };
}

// An empty icon of its own (a data: URL, which the CSP's img-src allows): else the browser asks
// forge serve for /favicon.ico, which only the API's routes answer, with a 401 the console shows.
function page(title: string, head: string, js: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
${head}<link rel="stylesheet" href="${css}">
<script type="module" src="${js}"></script>
</head>
<body>
<div id="root"></div>
</body>
</html>
`;
}

rmSync(tmp, { recursive: true, force: true });
const webUi = join(tmp, 'web', 'ui');
mkdirSync(webUi, { recursive: true });
const web = await bundle('entry-browser.tsx', webUi, '[name]-[hash]');
writeFileSync(join(tmp, 'web', 'index.html'), page('Debian Forge', '', `ui/${web.js}`, `ui/${web.css}`));
// Compressed once here; the service sends the form the browser accepts (PatternFly's style sheet
// alone is 1.7 MB, 0.2 MB as brotli).
for (const file of [web.js, web.css]) {
  const data = readFileSync(join(webUi, file));
  writeFileSync(
    join(webUi, `${file}.br`),
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  writeFileSync(join(webUi, `${file}.gz`), gzipSync(data, { level: 9 }));
}

const cockpitDir = join(tmp, 'cockpit');
const cockpit = await bundle('entry-cockpit.tsx', cockpitDir, '[name]');
writeFileSync(
  join(cockpitDir, 'index.html'),
  page('Debian Forge', '<script src="../base1/cockpit.js"></script>\n', cockpit.js, cockpit.css),
);
writeFileSync(join(cockpitDir, 'manifest.json'), readFileSync(join(here, 'cockpit', 'manifest.json')));

rmSync(dist, { recursive: true, force: true });
renameSync(tmp, dist);
process.stdout.write(`web: bundled into ${dist}\n`);
