/**
 * `npm run check` runs this: every `FORGE_ERR_*` code is written once in the sources (in its code
 * table; everything else names it through the table) and listed in docs/ERRORS.md, and the docs
 * name no code that does not exist (a renamed code left behind in a README).
 *
 * A code is a `FORGE_ERR_…` string in quotes (' or ") in a non-test source file of apps/ or
 * packages/; one in backquotes is prose (a comment), and a prefix that ends in `_`
 * (`startsWith('FORGE_ERR_APT_')`) is not a code. Tests are left out: they write the codes they
 * expect as text, on purpose.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const CODE_LITERAL = /['"](FORGE_ERR_[A-Z0-9_]*[A-Z0-9])['"]/g;
const CODE_IN_TEXT = /\bFORGE_ERR_[A-Z0-9_]*[A-Z0-9]\b/g;
/** The list of codes: one table row per code, the code first. */
const DOC_ROW = /^\|\s*`(FORGE_ERR_[A-Z0-9_]+)`\s*\|/gm;
export const ERROR_LIST = 'docs/ERRORS.md';

function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'libdir') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, keep, out);
    else if (entry.isFile() && keep(entry.name)) out.push(path);
  }
  return out;
}

function dirsIn(root: string, parents: string[]): string[] {
  return parents.flatMap((p) => {
    try {
      return readdirSync(join(root, p), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(root, p, e.name))
        .sort();
    } catch {
      return [];
    }
  });
}

const isSource = (name: string) => name.endsWith('.ts') && !name.endsWith('.test.ts');

/** Each code written in the sources under `root`, with the places (`file:line`) it is written. */
export function declaredCodes(root: string): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  for (const pkg of dirsIn(root, ['apps', 'packages'])) {
    for (const file of walk(join(pkg, 'src'), isSource)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const m of line.matchAll(CODE_LITERAL)) {
          const places = codes.get(m[1] as string) ?? [];
          places.push(`${relative(root, file)}:${i + 1}`);
          codes.set(m[1] as string, places);
        }
      });
    }
  }
  return codes;
}

/** The prose that may name codes: the READMEs and docs/ (the list itself is checked apart). */
function proseFiles(root: string): string[] {
  const readmes = dirsIn(root, ['apps', 'packages']).map((d) => join(d, 'README.md'));
  const docs = walk(join(root, 'docs'), (n) => n.endsWith('.md'));
  return [join(root, 'README.md'), ...readmes, ...docs].filter((f) => {
    try {
      readFileSync(f);
      return true;
    } catch {
      return false;
    }
  });
}

/** What is wrong with the codes under `root`, one line each; empty when all is well. */
export function errorCodeProblems(root: string): string[] {
  const problems: string[] = [];
  const codes = declaredCodes(root);
  for (const [code, places] of codes) {
    if (places.length > 1) problems.push(`${code} is written ${places.length} times: ${places.join(', ')}`);
  }
  let list = '';
  try {
    list = readFileSync(join(root, ERROR_LIST), 'utf8');
  } catch {
    problems.push(`${ERROR_LIST} is missing`);
  }
  const listed = new Map<string, number>();
  for (const m of list.matchAll(DOC_ROW)) listed.set(m[1] as string, (listed.get(m[1] as string) ?? 0) + 1);
  for (const [code, places] of codes) {
    if (!listed.has(code)) problems.push(`${code} (${places[0]}) is not listed in ${ERROR_LIST}`);
  }
  for (const [code, n] of listed) {
    if (n > 1) problems.push(`${code} is listed ${n} times in ${ERROR_LIST}`);
  }
  for (const file of proseFiles(root)) {
    const named = new Set(readFileSync(file, 'utf8').match(CODE_IN_TEXT) ?? []);
    for (const code of named) {
      if (!codes.has(code)) problems.push(`${relative(root, file)} names ${code}, which no source declares`);
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(import.meta.dirname, '..');
  const problems = errorCodeProblems(root);
  if (problems.length > 0) {
    process.stderr.write(`error codes:\n${problems.map((p) => `  ${p}\n`).join('')}`);
    process.exit(1);
  }
  process.stdout.write(`error codes: ${declaredCodes(root).size} codes, each written once and listed\n`);
}
