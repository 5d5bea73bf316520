import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

/** Compressible but not trivial: numbered lines. */
const sample = Buffer.from(
  Array.from({ length: 20000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}\n`).join(''),
);

describe('org.osbuild.gzip', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  function withInput(files: Record<string, Buffer>) {
    const input = root.input('file', { files: Object.fromEntries(Object.keys(files).map((k) => [k, {}])) });
    for (const [name, data] of Object.entries(files)) writeFileSync(join(input.path, name), data);
    return { inputs: { file: input } };
  }

  it('compresses the input file without name or time stamp', () => {
    const extra = withInput({ 'sha256:1234': sample });
    main(root.args({ filename: '/disk.raw.gz' }, extra));
    const out = readFileSync(join(root.tree, 'disk.raw.gz'));
    assert.deepEqual(gunzipSync(out), sample);
    assert.equal(out[3], 0, 'no FNAME flag');
    assert.equal(out.readUInt32LE(4), 0, 'no modification time');
    main(root.args({ filename: 'best.gz', level: 9 }, extra));
    const best = readFileSync(join(root.tree, 'best.gz'));
    assert.deepEqual(gunzipSync(best), sample);
    assert.ok(best.length < out.length, `level 9 (${best.length}) beats level 1 (${out.length})`);
  });

  it('writes inside the tree only', () => {
    const extra = withInput({ 'sha256:1234': sample });
    main(root.args({ filename: '/../../escape.gz' }, extra));
    assert.ok(existsSync(join(root.tree, 'escape.gz')));
    assert.equal(existsSync(join(root.dir, 'escape.gz')), false);
  });

  it('needs exactly one input file', () => {
    const extra = withInput({ 'sha256:1': sample, 'sha256:2': sample });
    assert.throws(() => main(root.args({ filename: 'x.gz' }, extra)), /exactly one file, it holds 2/);
  });
});
