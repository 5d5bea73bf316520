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

describe('org.osbuild.xz', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('compresses the input file into the tree, leaving the input alone', () => {
    const input = root.input('file', { files: { 'sha256:ab': {} } });
    writeFileSync(join(input.path, 'sha256:ab'), sample);
    main(root.args({ filename: '/image.raw.xz' }, { inputs: { file: input } }));
    const out = join(root.tree, 'image.raw.xz');
    assert.deepEqual(readFileSync(out).subarray(0, 6), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    assert.deepEqual(execFileSync('xz', ['--decompress', '--stdout', out]), sample);
    assert.deepEqual(readFileSync(join(input.path, 'sha256:ab')), sample);
  });

  it('fails without the input', () => {
    assert.throws(() => main(root.args({ filename: 'x.xz' })), /input 'file' is missing/);
  });
});
