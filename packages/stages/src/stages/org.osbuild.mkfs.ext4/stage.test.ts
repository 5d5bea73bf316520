import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main, mkfsArgv } from './stage.ts';

const skip = spawnSync('mkfs.ext4', ['-V']).status === 0 ? false : 'mkfs.ext4 is not installed (e2fsprogs)';

function superblock(path: string): Record<string, string> {
  const out = execFileSync('dumpe2fs', ['-h', path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const fields: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) fields[m[1]] = m[2];
  }
  return fields;
}

describe('org.osbuild.mkfs.ext4', { skip }, () => {
  let root: TestRoot;
  let image: string;
  beforeEach(() => {
    root = testRoot();
    image = join(root.dir, 'fs.img');
    writeFileSync(image, '');
    truncateSync(image, 32 * 1024 * 1024);
  });
  afterEach(() => root.cleanup());

  it('creates an ext4 file system with uuid, label and features switched on', () => {
    const uuid = '6e2ae4a9-4f2c-4ee9-9d4c-2e2f6ad6e0c1';
    main(
      root.args(
        { uuid, label: 'root', lazy_init: false, orphan_file: true, metadata_csum_seed: true, verity: true },
        { devices: { device: { path: image } } },
      ),
    );
    const sb = superblock(image);
    assert.equal(sb['Filesystem UUID'], uuid);
    assert.equal(sb['Filesystem volume name'], 'root');
    const features = (sb['Filesystem features'] ?? '').split(/\s+/);
    for (const f of ['has_journal', 'extent', 'orphan_file', 'metadata_csum_seed', 'verity']) {
      assert.ok(features.includes(f), `${f} in ${features}`);
    }
    const probe = execFileSync('blkid', ['-p', '-o', 'export', image], { encoding: 'utf8' });
    assert.match(probe, /^TYPE=ext4$/m);
    assert.match(probe, new RegExp(`^UUID=${uuid}$`, 'm'));
  });

  it('switches features off', () => {
    main(
      root.args(
        {
          uuid: '0f6d3a3e-1111-4222-8333-444455556666',
          orphan_file: false,
          metadata_csum_seed: false,
          verity: false,
        },
        { devices: { device: { path: image } } },
      ),
    );
    const sb = superblock(image);
    assert.equal(sb['Filesystem volume name'], '<none>');
    const features = (sb['Filesystem features'] ?? '').split(/\s+/);
    for (const f of ['orphan_file', 'metadata_csum_seed', 'verity']) assert.ok(!features.includes(f), f);
  });

  it('passes lazy_init as one extended option for inode tables and journal', () => {
    assert.deepEqual(mkfsArgv('/dev/x', { uuid: 'u', lazy_init: true }), [
      'mkfs.ext4',
      '-U',
      'u',
      '-E',
      'lazy_itable_init=1,lazy_journal_init=1',
      '/dev/x',
    ]);
  });

  it('fails without a device and on a bad uuid', () => {
    assert.throws(() => main(root.args({ uuid: '6e2ae4a9-4f2c-4ee9-9d4c-2e2f6ad6e0c1' })), /no device/);
    assert.throws(
      () => main(root.args({ uuid: 'not-a-uuid' }, { devices: { device: { path: image } } })),
      /mkfs.ext4 .* failed/,
    );
  });
});
