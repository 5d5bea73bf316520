import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveTokens, splitTokens, tokenFile } from './tokens.ts';

test('tokens: configured ones win; else the state file, made once with mode 0600', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(resolveTokens(dir, ['a', 'b']), { tokens: ['a', 'b'], generated: false });
  const first = resolveTokens(dir, []);
  assert.equal(first.generated, true);
  assert.equal(first.file, tokenFile(dir));
  assert.equal(statSync(tokenFile(dir)).mode & 0o777, 0o600);
  assert.equal(readFileSync(tokenFile(dir), 'utf8'), `${first.tokens[0]}\n`);
  const again = resolveTokens(dir, []);
  assert.deepEqual(again, { tokens: first.tokens, file: tokenFile(dir), generated: false });
  writeFileSync(tokenFile(dir), '  chosen-by-admin \n');
  assert.deepEqual(resolveTokens(dir, []).tokens, ['chosen-by-admin']);
});

test('FORGE_API_TOKENS: separated by commas or white space', () => {
  assert.deepEqual(splitTokens('a,b  c\nd,'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(splitTokens(undefined), []);
  assert.deepEqual(splitTokens(' , '), []);
});
