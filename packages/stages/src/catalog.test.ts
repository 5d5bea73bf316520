/**
 * Every stage's `.meta.json` must be valid by OSBuild's rules (`META_JSON_SCHEMA`, a draft-04
 * options schema), so the real `osbuild --libdir` can load the libdir; and the built libdir must
 * hold an executable and a meta file per stage, read back through the manifest package's index.
 */
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkModuleMeta, LibdirIndex } from '@debian-forge/manifest';
import { loadCatalog } from './catalog.ts';
import { buildLibdir } from './libdir.ts';
import { metaJsonOf } from './shared/define.ts';

const catalog = await loadCatalog();

describe('stage catalog', () => {
  it('names every stage after its folder', () => {
    for (const { folder, definition } of catalog) assert.ok(folder.endsWith(`/${definition.type}`), folder);
  });

  for (const { definition } of catalog) {
    it(`${definition.type}: .meta.json is valid by OSBuild's rules`, () => {
      assert.deepEqual(checkModuleMeta(JSON.parse(JSON.stringify(metaJsonOf(definition)))), []);
    });
  }
});

describe('built libdir', () => {
  let out: string;
  before(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'forge-libdir-')), 'libdir');
    await buildLibdir(out);
  });
  after(() => rmSync(join(out, '..'), { recursive: true, force: true }));

  it('holds an executable bundle and a meta file per stage, and the runners', () => {
    for (const { definition } of catalog) {
      const exe = join(out, 'stages', definition.type);
      accessSync(exe, constants.X_OK);
      assert.match(readFileSync(exe, 'utf8'), /^#!\/usr\/bin\/env node\n/);
      assert.doesNotMatch(readFileSync(exe, 'utf8'), /from ['"]zod['"]|require\("zod"\)/);
    }
    accessSync(join(out, 'runners', 'org.osbuild.debian12'), constants.X_OK);
  });

  it('is read by the validating index, which then checks stage options', () => {
    const warnings: string[] = [];
    const index = new LibdirIndex(out, (m) => warnings.push(m));
    for (const { definition } of catalog)
      assert.ok(index.schemaFor('Stage', definition.type), definition.type);
    assert.deepEqual(warnings, []);
    const mkdir = index.schemaFor('Stage', 'org.osbuild.mkdir');
    assert.ok(mkdir);
    const bad = mkdir.validate({
      type: 'org.osbuild.mkdir',
      options: { paths: [{ path: '/x', mode: 'rwx' }] },
    });
    assert.deepEqual(bad.errors, [
      { message: "'rwx' is not of type 'number'", path: ['options', 'paths', 0, 'mode'] },
    ]);
    assert.equal(index.schemaFor('Stage', 'org.osbuild.no-such-stage'), undefined);
  });
});
