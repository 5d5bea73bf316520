/**
 * The check `npm run check` runs on error codes (scripts/check-error-codes.ts): this tree passes,
 * and a tree with a code written twice, a code left out of docs/ERRORS.md, or a README naming a
 * code no source declares fails with a line naming each.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { declaredCodes, errorCodeProblems } from '../scripts/check-error-codes.ts';

const REPO = join(import.meta.dirname, '..');

test('error codes: each code of this tree is written once in the sources and listed in docs/ERRORS.md', () => {
  assert.deepEqual(errorCodeProblems(REPO), []);
  assert.ok(declaredCodes(REPO).size >= 60, 'the scan finds the code tables');
});

test('error codes: a duplicate, an unlisted code and a stale name in a README are each reported', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'forge-error-codes-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('packages/a/src/errors.ts', "export const A = { Bad: 'FORGE_ERR_BAD', New: 'FORGE_ERR_NEW' };\n");
  write('apps/b/src/errors.ts', "/** like `FORGE_ERR_OLD` */\nexport const B = { Bad: 'FORGE_ERR_BAD' };\n");
  write('apps/b/src/errors.test.ts', "assert.equal(code, 'FORGE_ERR_BAD');\n");
  write('apps/b/README.md', 'The worker fails with `FORGE_ERR_OLD`.\n');
  write('docs/ERRORS.md', '| Code |\n| --- |\n| `FORGE_ERR_BAD` |\n');
  const problems = errorCodeProblems(root);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(
    problems[0] ?? '',
    /^FORGE_ERR_BAD is written 2 times: .*apps\/b\/src\/errors\.ts:2.*packages\/a\/src\/errors\.ts:1/,
  );
  assert.match(
    problems[1] ?? '',
    /^FORGE_ERR_NEW \(packages\/a\/src\/errors\.ts:1\) is not listed in docs\/ERRORS\.md/,
  );
  assert.match(problems[2] ?? '', /^apps\/b\/README\.md names FORGE_ERR_OLD, which no source declares/);
});
