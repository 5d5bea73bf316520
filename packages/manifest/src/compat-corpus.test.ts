/**
 * The compatibility corpus: manifests from OSBuild's own test data with the ids that real OSBuild
 * (version 191) printed for them with `osbuild --inspect`. Every stage id and build id must match.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { loadManifest, parseManifestText } from './index.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/compat/osbuild-ids');

interface ExpectedIds {
  pipelines: { name: string; build: string | null; stages: { type: string; id: string }[] }[];
}

const names = readdirSync(corpus)
  .filter((f) => f.endsWith('.manifest.json.gz'))
  .map((f) => f.slice(0, -'.manifest.json.gz'.length))
  .sort();

describe('OSBuild compatibility corpus', () => {
  it('has the 132 manifests the corpus README promises', () => {
    assert.equal(names.length, 132);
  });

  for (const name of names) {
    it(`computes OSBuild's ids for ${name}`, () => {
      const desc = parseManifestText(gunzipSync(readFileSync(join(corpus, `${name}.manifest.json.gz`))));
      const expected = JSON.parse(readFileSync(join(corpus, `${name}.ids.json`), 'utf8')) as ExpectedIds;
      const manifest = loadManifest(desc);
      const actual = {
        pipelines: manifest.pipelines.map((p) => ({
          name: p.name,
          build: p.build,
          stages: p.stages.map((s) => ({ type: s.type, id: s.id })),
        })),
      };
      assert.deepEqual(actual, expected);
    });
  }
});
