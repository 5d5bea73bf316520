import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApi } from '../api.fixture.ts';
import { CLOUD_PREFIX } from '../cloud/prefix.ts';
import { tinyPlanner } from '../services/compose.fixture.ts';
import { weldrError } from '../weldr/weldr.fixture.ts';

const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

test('JSON bodies nested deeper than 1000 levels: 400 in each API family, never a 5xx', async (t) => {
  const a = await startTestApi(t, {}, { composes: { planner: tinyPlanner } });
  const post = (url: string, payload: string) =>
    a.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
  const cloud = (inner: string) =>
    post(
      `${CLOUD_PREFIX}/compose`,
      `{"distribution":"debian-12","image_request":{"architecture":"x86_64","image_type":"tar"},"customizations":{"x":${inner}}}`,
    );
  const forge = (inner: string) =>
    post(
      '/api/forge/v1/manifests',
      `{"manifest":{"version":"2","x":${inner}},"exports":["os"],"filename":"f"}`,
    );
  const weldr = (inner: string) => post('/api/v0/compose', `{"blueprint_name":"x","upload":${inner}}`);

  for (const depth of [1000, 10_000, 100_000]) {
    // The body's own object is the first level, so the first bracket too many is the 1000th.
    const where = /nests objects and arrays deeper than 1000 levels \(at line 1 column \d+ \(char \d+\)\)$/;
    const c = await cloud(nested(depth));
    assert.equal(c.statusCode, 400, c.body);
    const cloudBody = c.json() as { kind: string; id: string; reason: string };
    assert.equal(cloudBody.kind, 'Error');
    assert.equal(cloudBody.id, 'BadRequest');
    assert.match(cloudBody.reason, /^the request body nests/);
    assert.match(cloudBody.reason, where);

    const f = await forge(nested(depth));
    assert.equal(f.statusCode, 400, f.body);
    assert.equal((f.json() as { code: string }).code, 'FORGE_ERR_JSON_TOO_DEEP');
    assert.match((f.json() as { message: string }).message, where);

    weldrError(await weldr(nested(depth)), 400, 'HTTPError', where);
  }

  // Up to the limit the body is read and answered as it deserves, still without a 5xx.
  const c = await cloud(nested(997));
  assert.ok(c.statusCode < 500, c.body);
  const f = await forge(nested(997));
  assert.equal(f.statusCode, 400, f.body);
  assert.notEqual((f.json() as { code: string }).code, 'FORGE_ERR_JSON_TOO_DEEP');
  weldrError(await weldr(nested(998)), 400, 'UnknownBlueprint');

  // Fastify's own checks still run behind this one.
  const poisoned = await post('/api/forge/v1/manifests', '{"__proto__":{"x":1}}');
  assert.equal(poisoned.statusCode, 400, poisoned.body);
  const broken = await post('/api/forge/v1/manifests', '{"manifest":');
  assert.equal(broken.statusCode, 400, broken.body);
});
