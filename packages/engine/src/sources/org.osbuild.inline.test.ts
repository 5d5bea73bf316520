import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { run, which } from '@debian-forge/host';
import type { Source } from '@debian-forge/manifest';
import { fetchSources, type SourceEvent } from './index.ts';

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const inline = (items: Record<string, unknown>): Source => ({
  type: 'org.osbuild.inline',
  items,
  options: {},
});

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'forge-inline-test-'));
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function freshStore(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

/** `data` compressed by xz in the given container format (`xz` or the legacy `lzma`). */
async function xz(data: Buffer, format: 'xz' | 'lzma'): Promise<Buffer> {
  const file = join(work, `payload-${format}`);
  writeFileSync(file, data);
  await run(['xz', `--format=${format}`, '--force', file]);
  const out = readFileSync(`${file}.${format}`);
  rmSync(`${file}.${format}`);
  return out;
}

function needXz(t: TestContext): boolean {
  if (which('xz')) return true;
  t.skip('needs xz (xz-utils)');
  return false;
}

describe('org.osbuild.inline', () => {
  it('decodes base64 into org.osbuild.files/<checksum>, then finds it cached', async () => {
    const store = freshStore('base64');
    const data = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    const checksum = sha256(data);
    const events: SourceEvent[] = [];
    const [result] = await fetchSources(
      [inline({ [checksum]: { encoding: 'base64', data: data.toString('base64') } })],
      store,
      {
        onEvent: (e) => events.push(e),
      },
    );
    assert.deepEqual(result, {
      type: 'org.osbuild.inline',
      success: true,
      items: [{ checksum, cached: false }],
    });
    assert.deepEqual(readFileSync(join(store, 'org.osbuild.files', checksum)), data);
    assert.deepEqual(events, [{ type: 'org.osbuild.inline', checksum, cached: false }]);
    const [again] = await fetchSources([inline({ [checksum]: { encoding: 'base64', data: 'AAAA' } })], store);
    assert.deepEqual(again?.items, [{ checksum, cached: true }], 'an existing file is not decoded again');
  });

  it('decodes lzma+base64 in both containers Python lzma reads: .xz and legacy .lzma', async (t) => {
    if (!needXz(t)) return;
    const store = freshStore('lzma');
    const data = Buffer.from('Debian Forge '.repeat(1000));
    const checksum = sha256(data);
    for (const format of ['xz', 'lzma'] as const) {
      rmSync(join(store, 'org.osbuild.files'), { recursive: true, force: true });
      const packed = (await xz(data, format)).toString('base64');
      const [result] = await fetchSources(
        [inline({ [checksum]: { encoding: 'lzma+base64', data: packed } })],
        store,
      );
      assert.deepEqual(result?.items, [{ checksum, cached: false }], format);
      assert.deepEqual(readFileSync(join(store, 'org.osbuild.files', checksum)), data, format);
      assert.deepEqual(
        readdirSync(join(store, 'org.osbuild.files')),
        [checksum],
        'no temporary files are left',
      );
    }
  });

  it('rejects data whose checksum does not match, with both sums, leaving no file', async () => {
    const store = freshStore('mismatch');
    const wrong = sha256('other');
    const [result] = await fetchSources(
      [inline({ [wrong]: { encoding: 'base64', data: Buffer.from('data').toString('base64') } })],
      store,
    );
    assert.equal(result?.success, false);
    const error = result?.items[0]?.error ?? '';
    assert.ok(error.includes(wrong) && error.includes(sha256('data')), error);
    assert.deepEqual(readdirSync(join(store, 'org.osbuild.files')), []);
  });

  it('reports unknown encodings and undecodable lzma data', async (t) => {
    if (!needXz(t)) return;
    const store = freshStore('bad');
    const a = sha256('a');
    const b = sha256('b');
    const [result] = await fetchSources(
      [
        inline({
          [a]: { encoding: 'gzip+base64', data: '' },
          [b]: { encoding: 'lzma+base64', data: Buffer.from('not lzma').toString('base64') },
        }),
      ],
      store,
    );
    assert.equal(result?.success, false);
    assert.equal(result?.items[0]?.error, 'unknown encoding gzip+base64');
    assert.match(result?.items[1]?.error ?? '', /cannot decompress the lzma data/);
    assert.deepEqual(readdirSync(join(store, 'org.osbuild.files')), []);
  });
});

describe('fetchSources', () => {
  it('gives an error result naming an unknown source type, and refuses malformed checksums', async () => {
    const store = freshStore('unknown');
    const events: SourceEvent[] = [];
    const results = await fetchSources(
      [
        { type: 'org.osbuild.skopeo', items: { abc: { image: { name: 'x' } } }, options: {} },
        inline({ '../../etc/passwd': { encoding: 'base64', data: '' } }),
        inline({}),
      ],
      store,
      { onEvent: (e) => events.push(e) },
    );
    assert.equal(results[0]?.success, false);
    assert.match(results[0]?.error ?? '', /unknown source type org\.osbuild\.skopeo/);
    assert.match(results[0]?.items[0]?.error ?? '', /unknown source type org\.osbuild\.skopeo/);
    assert.equal(results[1]?.success, false);
    assert.match(results[1]?.items[0]?.error ?? '', /invalid checksum/);
    assert.deepEqual(results[2], { type: 'org.osbuild.inline', success: true, items: [] });
    assert.equal(events.length, 2);
  });
});
