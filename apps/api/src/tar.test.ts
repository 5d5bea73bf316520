import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { run } from '@debian-forge/host';
import { tarHeader, tarSize, tarStream } from './tar.ts';

test('tar(1) reads what the writer makes: files from memory and disk, long names, sizes past 8 GiB', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const onDisk = join(dir, 'image');
  writeFileSync(onDisk, Buffer.alloc(1500, 1));
  const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const entries = [
    { name: 'a.json', data: Buffer.from('{}') },
    { name: long, data: Buffer.alloc(512, 2) },
    { name: 'logs/image', path: onDisk, size: 1500 },
  ];
  const tar = await buffer(tarStream(entries, 1_700_000_000));
  assert.equal(tar.length, tarSize(entries));
  writeFileSync(join(dir, 'x.tar'), tar);
  const listed = await run(['tar', '--utc', '-tvf', join(dir, 'x.tar')]);
  const lines = listed.stdout.trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/).slice(2, 3).concat(l.split(/\s+/).slice(-1))),
    [
      ['2', 'a.json'],
      ['512', long],
      ['1500', 'logs/image'],
    ],
  );
  assert.match(lines[0] ?? '', /2023-11-14 22:13/);

  // A header of a 10 GiB file (base-256 size field), without its data: tar lists it, then
  // complains about the missing data.
  const big = 10 * 1024 ** 3;
  writeFileSync(join(dir, 'big.tar'), tarHeader('huge.raw', big, 0));
  const bigList = await run(['tar', '-tvf', join(dir, 'big.tar')], { okCodes: [2] });
  assert.match(bigList.stdout, new RegExp(`\\s${big}\\s.*huge\\.raw`));
});
