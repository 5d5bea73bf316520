/**
 * The bundled `forge` (apps/cli/dist, made by scripts/setup.sh) loads the service only for `serve`
 * and `worker`: what `forge --version` and `forge inspect` load statically holds no Fastify, BullMQ
 * or SQLite code, so they start as fast as before the service existed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './engine.fixture.ts';

const DIST = join(REPO, 'apps/cli/dist');
const skip = existsSync(join(DIST, 'forge.mjs'))
  ? undefined
  : 'no bundle (npm run build -w @debian-forge/cli)';

/** A chunk and every chunk it imports statically. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(DIST, file), 'utf8');
  for (const m of text.matchAll(/(?:^|[;\n])\s*import\s*(?:[^'"()]*?from\s*)?"\.\/([^"]+\.mjs)"/g)) {
    staticClosure(m[1] as string, seen);
  }
  return seen;
}

/** Marks of the service's libraries in bundled code. */
const SERVICE_MARKS = [/FST_ERR_/, /bullmq/i, /better-sqlite3/];

test('forge --version and forge inspect do not load the service code', { skip }, () => {
  const entry = readFileSync(join(DIST, 'forge.mjs'), 'utf8');
  const lazy = (verb: string) => new RegExp(`import\\("\\./(${verb}-[A-Z0-9]+\\.mjs)"\\)`).exec(entry)?.[1];
  const serve = lazy('serve');
  const inspect = lazy('inspect');
  assert.ok(serve && inspect, 'serve and inspect are chunks loaded on demand');
  const serveText = [...staticClosure(serve)].map((f) => readFileSync(join(DIST, f), 'utf8')).join('\n');
  for (const mark of SERVICE_MARKS) assert.match(serveText, mark, `the serve chunks carry ${mark}`);
  for (const start of ['forge.mjs', inspect]) {
    for (const file of staticClosure(start)) {
      const text = readFileSync(join(DIST, file), 'utf8');
      for (const mark of SERVICE_MARKS) {
        assert.doesNotMatch(text, mark, `${file} (loaded with ${start}) holds service code`);
      }
    }
  }
});
