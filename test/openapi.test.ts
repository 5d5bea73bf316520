/**
 * openapi/ holds the OpenAPI document of every route; it is generated (`npm run openapi`) from the
 * routes' schemas, and this test fails when the checked-in copy differs from a fresh one.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OPENAPI_FILES, openApiDocument } from '@debian-forge/cli/openapi';
import { REPO } from './engine.fixture.ts';

const skip = existsSync('/usr/bin/redis-server') ? undefined : 'needs redis-server (scripts/debian-packages)';

test('openapi/ is the document the routes make now', { skip }, async () => {
  const fresh = await openApiDocument();
  const doc = JSON.parse(fresh.json) as { openapi: string; paths: Record<string, unknown> };
  assert.match(doc.openapi, /^3\./);
  // All three APIs are in it.
  for (const path of [
    '/api/status',
    '/api/v0/blueprints/list',
    '/api/v1/compose',
    '/api/image-builder-composer/v2/compose',
    '/api/forge/v1/events',
  ]) {
    assert.ok(path in doc.paths, `${path} is missing from the document`);
  }
  for (const [key, name] of Object.entries(OPENAPI_FILES) as [keyof typeof OPENAPI_FILES, string][]) {
    const file = join(REPO, 'openapi', name);
    const stored = existsSync(file) ? readFileSync(file, 'utf8') : '';
    assert.ok(stored === fresh[key], `openapi/${name} is stale: run npm run openapi and commit openapi/`);
  }
});
