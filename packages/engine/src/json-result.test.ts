import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadManifest, pyDumps, validateManifest } from '@debian-forge/manifest';
import type { BuildResult } from './build.ts';
import { jsonResult, readBuildOutput } from './json-result.ts';

const manifest = loadManifest({
  version: '2',
  pipelines: [
    { name: 'tree', stages: [{ type: 'org.osbuild.mkdir', options: { paths: [{ path: '/a' }] } }] },
  ],
});
const stageId = manifest.pipelines[0]?.stages[0]?.id as string;

const ran = (over: Partial<BuildResult>): BuildResult => ({
  success: true,
  sources: [],
  pipelines: [
    {
      name: 'tree',
      id: manifest.pipelines[0]?.id ?? null,
      stages: [{ name: 'org.osbuild.mkdir', id: stageId, success: true, output: 'made /a\n', error: null }],
    },
  ],
  metadata: { tree: { 'org.osbuild.mkdir': { made: 1 } } },
  exported: {},
  checkpoints: {},
  ...over,
});

/** What the CLI prints for `result`, read back as the worker reads it. */
const roundTrip = (result: BuildResult) => readBuildOutput(`${pyDumps(jsonResult(manifest, result))}\n`);

describe('forge build --json: one schema for the writer and the reader', () => {
  it('a success, a failing stage and a failing source read back as they were written', () => {
    assert.deepEqual(roundTrip(ran({})), {
      type: 'result',
      success: true,
      metadata: { tree: { 'org.osbuild.mkdir': { made: 1 } } },
      sources: { success: true },
      log: { tree: [{ id: stageId, type: 'org.osbuild.mkdir', output: 'made /a\n' }] },
    });

    const stage = {
      name: 'org.osbuild.mkdir',
      id: stageId,
      success: false,
      output: 'no room\n',
      error: 'exit 1',
    };
    const failed = roundTrip(
      ran({ success: false, pipelines: [{ name: 'tree', id: null, stages: [stage] }] }),
    );
    assert.equal(failed?.type, 'error');
    assert.deepEqual(failed?.type === 'error' && failed.error, {
      type: 'org.osbuild.error.stage',
      details: { stage: { id: stageId, type: 'org.osbuild.mkdir', output: 'no room\n', error: 'exit 1' } },
    });
    assert.deepEqual(failed?.log.tree, [
      { id: stageId, type: 'org.osbuild.mkdir', output: 'no room\n', success: false, error: 'exit 1' },
    ]);

    const items = [{ checksum: 'sha256:00', cached: false, error: 'HTTP 404' }];
    const source = roundTrip(
      ran({ success: false, pipelines: [], sources: [{ type: 'org.osbuild.curl', success: false, items }] }),
    );
    assert.deepEqual(source?.type === 'error' && source.error, {
      type: 'org.osbuild.error.source',
      details: { source: { type: 'org.osbuild.curl', output: 'HTTP 404' } },
    });
    assert.deepEqual(source?.type === 'error' && source.sources, {
      success: false,
      'org.osbuild.curl': items,
    });
  });

  it("a manifest's validation errors read back as packages/manifest writes them", () => {
    const result = validateManifest({ version: '2', pipelines: [{ name: 7 }] });
    const doc = result.toJSON();
    assert.deepEqual(readBuildOutput(`${pyDumps(doc)}\n`), doc);
    assert.equal(readBuildOutput(`${pyDumps(doc)}\n`)?.type, 'https://osbuild.org/validation-error');
  });

  it('anything else is no result (the worker then reads standard error)', () => {
    const stageError = (error: unknown) =>
      JSON.stringify({ type: 'error', success: false, error, sources: { success: true }, log: {} });
    for (const stdout of [
      '',
      'Failed\n',
      'Export x not found in [tree]\nFailed\n',
      '{"type": "error", "success": false',
      '[]',
      'null',
      '{"type": "result", "success": false, "metadata": {}, "sources": {}, "log": {}}',
      stageError({ type: 'org.osbuild.error.disk', details: {} }),
      stageError({ type: 'org.osbuild.error.stage', details: { stage: { type: 'x', output: 3 } } }),
      '{"type": "https://osbuild.org/validation-error", "success": false, "errors": "all of them"}',
    ]) {
      assert.equal(readBuildOutput(stdout), undefined, stdout);
    }
  });

  it('the document is the last line: what was printed before it is not read', () => {
    const doc = pyDumps(jsonResult(manifest, ran({})));
    assert.equal(readBuildOutput(`starting build\n${doc}\n`)?.type, 'result');
    assert.equal(readBuildOutput(`${doc}\nFailed\n`), undefined);
  });
});
