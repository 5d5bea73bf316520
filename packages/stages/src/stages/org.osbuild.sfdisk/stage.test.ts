import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const haveSfdisk = spawnSync('sfdisk', ['--version']).status === 0;
const skip = haveSfdisk ? false : 'sfdisk is not installed (Debian package fdisk)';

interface Table {
  label: string;
  id: string;
  partitions: {
    node: string;
    start: number;
    size: number;
    type: string;
    name?: string;
    uuid?: string;
    attrs?: string;
    bootable?: boolean;
  }[];
}

function readTable(path: string): Table {
  return JSON.parse(execFileSync('sfdisk', ['--json', path], { encoding: 'utf8' })).partitiontable;
}

describe('org.osbuild.sfdisk', { skip }, () => {
  let root: TestRoot;
  let image: string;
  beforeEach(() => {
    root = testRoot();
    image = join(root.dir, 'disk.img');
    writeFileSync(image, '');
    truncateSync(image, 64 * 1024 * 1024);
  });
  afterEach(() => root.cleanup());

  it('writes a gpt table with names, uuids, types and attribute bits', () => {
    main(
      root.args(
        {
          label: 'gpt',
          uuid: 'D209C89E-EA5E-4FBD-B161-B461CCE297E0',
          partitions: [
            {
              start: 2048,
              size: 2048,
              type: '21686148-6449-6E6F-744E-656564454649',
              name: 'BIOS-BOOT',
              uuid: 'FAC7F1FB-3E8D-4137-A512-961DE09A5549',
              attrs: [2, 60],
            },
            {
              start: 4096,
              size: 40960,
              type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
              name: 'EFI System Partition',
              uuid: '68B2905B-DF3E-4FB3-80FA-49D1E773AA33',
            },
            { start: 45056, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', name: 'root' },
          ],
        },
        { devices: { device: { path: image } } },
      ),
    );
    const t = readTable(image);
    assert.equal(t.label, 'gpt');
    assert.equal(t.id, 'D209C89E-EA5E-4FBD-B161-B461CCE297E0');
    assert.equal(t.partitions.length, 3);
    const [bios, esp, rootfs] = t.partitions;
    assert.deepEqual(
      [bios?.start, bios?.size, bios?.name, bios?.uuid],
      [2048, 2048, 'BIOS-BOOT', 'FAC7F1FB-3E8D-4137-A512-961DE09A5549'],
    );
    assert.equal(bios?.type, '21686148-6449-6E6F-744E-656564454649');
    assert.equal(bios?.attrs, 'LegacyBIOSBootable GUID:60');
    assert.equal(esp?.name, 'EFI System Partition');
    assert.equal(esp?.size, 40960);
    assert.equal(rootfs?.start, 45056);
    // without a size the last partition takes the rest of the disk, short of the backup gpt
    const end = (rootfs?.start ?? 0) + (rootfs?.size ?? 0);
    assert.ok(end >= 64 * 2048 - 2048 && end <= 64 * 2048 - 34, String(end));
  });

  it('writes a dos table with the bootable flag, taking partnum and "mbr" into account', () => {
    main(
      root.args(
        {
          label: 'mbr',
          uuid: '0x14fc63d2',
          partitions: [
            { partnum: 2, start: 8192, size: 8192, type: '83' },
            { partnum: 1, start: 2048, size: 4096, type: 'ef', bootable: true },
          ],
        },
        { devices: { device: { path: image } } },
      ),
    );
    const t = readTable(image);
    assert.equal(t.label, 'dos');
    assert.equal(t.id, '0x14fc63d2');
    assert.deepEqual(
      t.partitions.map((p) => [p.node.slice(-1), p.start, p.size, p.type, p.bootable ?? false]),
      [
        ['1', 2048, 4096, 'ef', true],
        ['2', 8192, 8192, '83', false],
      ],
    );
  });

  it('replaces an existing table', () => {
    const args = (label: 'gpt' | 'dos', uuid: string) =>
      root.args({ label, uuid, partitions: [{ size: 2048 }] }, { devices: { device: { path: image } } });
    main(args('gpt', '11111111-2222-3333-4444-555555555555'));
    main(args('dos', '0xdeadbeef'));
    assert.equal(readTable(image).label, 'dos');
    assert.equal(readTable(image).partitions.length, 1);
  });

  it('fails for a missing device, a bad table and a quote in a name', () => {
    assert.throws(() => main(root.args({ label: 'gpt', uuid: 'x' })), /no device named 'device'/);
    const dev = { devices: { device: { path: image } } };
    assert.throws(
      () => main(root.args({ label: 'dos', uuid: '0x1', partitions: [{ start: 2048, size: 1 << 30 }] }, dev)),
      /sfdisk/,
    );
    assert.throws(
      () =>
        main(
          root.args(
            { label: 'gpt', uuid: '11111111-2222-3333-4444-555555555555', partitions: [{ name: 'a"b' }] },
            dev,
          ),
        ),
      /quote/,
    );
  });

  it('partitions a loop device', {
    skip: process.getuid?.() === 0 ? false : 'needs root for losetup',
  }, () => {
    const found = spawnSync('losetup', ['--find', '--show', image], { encoding: 'utf8' });
    if (found.status !== 0) {
      process.stdout.write(`# skipped: losetup failed: ${found.stderr}\n`);
      return;
    }
    const loop = found.stdout.trim();
    try {
      main(
        root.args(
          {
            label: 'gpt',
            uuid: '0A3A8E2E-4A4C-4F2E-8A6F-2F8E6F3C1B11',
            partitions: [{ size: 8192, name: 'p1' }],
          },
          { devices: { device: { path: loop } } },
        ),
      );
      assert.equal(readTable(image).partitions[0]?.name, 'p1');
    } finally {
      spawnSync('losetup', ['-d', loop]);
    }
  });
});
