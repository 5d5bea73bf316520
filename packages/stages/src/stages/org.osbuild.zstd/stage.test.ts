import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const sample = Buffer.from(
  Array.from({ length: 20000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}\n`).join(''),
);

describe('org.osbuild.zstd', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('compresses the input file into the tree, leaving the input alone', () => {
    const input = root.input('file', { files: { 'sha256:cd': {} } });
    writeFileSync(join(input.path, 'sha256:cd'), sample);
    main(root.args({ filename: '/image.raw.zst' }, { inputs: { file: input } }));
    const out = join(root.tree, 'image.raw.zst');
    assert.deepEqual(readFileSync(out).subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    assert.deepEqual(execFileSync('zstd', ['--decompress', '--stdout', '--quiet', out]), sample);
    assert.deepEqual(readFileSync(join(input.path, 'sha256:cd')), sample);
  });

  it('fails on an input that is not there', () => {
    const input = root.input('file', { files: { 'sha256:missing': {} } });
    assert.throws(
      () => main(root.args({ filename: 'x.zst' }, { inputs: { file: input } })),
      /zstd .* failed/,
    );
  });
});
