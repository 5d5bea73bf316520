import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const skip = spawnSync('mkfs.fat', ['--help']).error ? 'mkfs.fat is not installed (dosfstools)' : false;
const haveMtools = !spawnSync('minfo', ['--version']).error;

function probe(path: string): Record<string, string> {
  const out = execFileSync('blkid', ['-p', '-o', 'export', path], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

describe('org.osbuild.mkfs.fat', { skip }, () => {
  let root: TestRoot;
  let image: string;
  beforeEach(() => {
    root = testRoot();
    image = join(root.dir, 'esp.img');
    writeFileSync(image, '');
    truncateSync(image, 64 * 1024 * 1024);
  });
  afterEach(() => root.cleanup());

  it('creates a FAT32 file system with volume id, label and geometry', () => {
    main(
      root.args(
        { volid: '7B7795E7', label: 'ESP', 'fat-size': 32, geometry: { heads: 16, 'sectors-per-track': 63 } },
        { devices: { device: { path: image } } },
      ),
    );
    const p = probe(image);
    assert.equal(p.TYPE, 'vfat');
    assert.equal(p.VERSION, 'FAT32');
    assert.equal(p.UUID, '7B77-95E7');
    assert.equal(p.LABEL, 'ESP');
    assert.equal(spawnSync('fsck.fat', ['-n', image]).status, 0);
    if (haveMtools) {
      const info = execFileSync('minfo', ['-i', image, '::'], { encoding: 'utf8' });
      assert.match(info, /^heads: 16$/m);
      assert.match(info, /^sectors per track: 63$/m);
    }
  });

  it('creates FAT16 when asked, formatting over an existing partition table', () => {
    spawnSync('sfdisk', ['-q', image], { input: 'label: dos\n,,ef\n' });
    main(root.args({ volid: '0000ABCD', 'fat-size': 16 }, { devices: { device: { path: image } } }));
    const p = probe(image);
    assert.equal(p.VERSION, 'FAT16');
    assert.equal(p.UUID, '0000-ABCD');
    assert.equal(p.LABEL, undefined);
  });

  it('fails on a bad volume id and without a device', () => {
    assert.throws(() => main(root.args({ volid: '7B7795E7' })), /no device/);
    assert.throws(
      () => main(root.args({ volid: 'xyz' }, { devices: { device: { path: image } } })),
      /mkfs.fat .* failed/,
    );
  });
});
