import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StageArguments } from '../../shared/arguments.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const skip = spawnSync('qemu-img', ['--version']).error ? 'qemu-img is not installed (qemu-utils)' : false;
const SIZE = 16 * 1024 * 1024;
const INPUT_NAME = 'sha256:ab5df625bc76dbd4e163bed2dd888df828f90159bb93556525c31821b6541d46';

interface Info {
  format: string;
  'virtual-size': number;
  'format-specific'?: { type: string; data: Record<string, unknown> };
}

function info(path: string): Info {
  return JSON.parse(execFileSync('qemu-img', ['info', '--output=json', path], { encoding: 'utf8' }));
}

describe('org.osbuild.qemu', { skip }, () => {
  let root: TestRoot;
  let source: string;
  let args: <O>(options: O) => StageArguments<O>;
  beforeEach(() => {
    root = testRoot();
    const input = root.input('image', { files: { [INPUT_NAME]: {} } });
    source = join(input.path, INPUT_NAME);
    writeFileSync(source, '');
    truncateSync(source, SIZE);
    const fd = openSync(source, 'r+');
    writeSync(fd, Buffer.alloc(65536, 'debian forge '), 0, 65536, 4 * 1024 * 1024);
    closeSync(fd);
    args = (options) => root.args(options, { inputs: { image: input } });
  });
  afterEach(() => root.cleanup());

  const same = (target: string) => assert.equal(spawnSync('qemu-img', ['compare', source, target]).status, 0);

  it('writes a compressed qcow2 with the asked compat level', () => {
    main(args({ filename: 'disk.qcow2', format: { type: 'qcow2', compat: '0.10' } }));
    const target = join(root.tree, 'disk.qcow2');
    const i = info(target);
    assert.equal(i.format, 'qcow2');
    assert.equal(i['virtual-size'], SIZE);
    assert.equal(i['format-specific']?.data.compat, '0.10');
    same(target);
  });

  it('writes vmdk with its subformat and adapter, vpc fixed at the exact size, vdi, vhdx and raw', () => {
    main(
      args({
        filename: '/images/disk.vmdk',
        format: { type: 'vmdk', subformat: 'streamOptimized', adapter_type: 'lsilogic' },
      }),
    );
    const vmdk = info(join(root.tree, 'images/disk.vmdk'));
    assert.equal(vmdk.format, 'vmdk');
    assert.equal(vmdk['format-specific']?.data['create-type'], 'streamOptimized');
    same(join(root.tree, 'images/disk.vmdk'));

    main(args({ filename: 'disk.vhd', format: { type: 'vpc' } }));
    // a fixed vhd is the raw data followed by a 512-byte footer (qemu-img probes it as raw)
    const vhd = readFileSync(join(root.tree, 'disk.vhd'));
    assert.equal(vhd.length, SIZE + 512);
    const footer = vhd.subarray(SIZE);
    assert.equal(footer.subarray(0, 8).toString('latin1'), 'conectix');
    assert.equal(footer.readUInt32BE(60), 2, 'disk type: fixed');
    assert.equal(Number(footer.readBigUInt64BE(48)), SIZE, 'current size');
    assert.ok(vhd.subarray(0, SIZE).equals(readFileSync(source)));

    for (const type of ['vdi', 'vhdx', 'raw'] as const) {
      main(args({ filename: `disk.${type}`, format: { type } }));
      assert.equal(info(join(root.tree, `disk.${type}`)).format, type);
      same(join(root.tree, `disk.${type}`));
    }
  });

  it('writes uncompressed qcow2 when asked', () => {
    main(args({ filename: 'c.qcow2', format: { type: 'qcow2' } }));
    main(args({ filename: 'u.qcow2', format: { type: 'qcow2', compression: false } }));
    same(join(root.tree, 'u.qcow2'));
    const compressed = (name: string) =>
      JSON.parse(
        execFileSync('qemu-img', ['check', '--output=json', join(root.tree, name)], { encoding: 'utf8' }),
      )['compressed-clusters'] ?? 0;
    assert.ok(compressed('c.qcow2') > 0);
    assert.equal(compressed('u.qcow2'), 0);
  });

  it('keeps the output inside the tree', () => {
    main(args({ filename: '../../../escaped.qcow2', format: { type: 'qcow2' } }));
    assert.ok(existsSync(join(root.tree, 'escaped.qcow2')));
    assert.ok(!existsSync(join(root.dir, 'escaped.qcow2')));
  });

  it('fails without exactly one input file', () => {
    const input = root.input('image');
    assert.throws(
      () => main(root.args({ filename: 'x.qcow2', format: { type: 'qcow2' } }, { inputs: { image: input } })),
      /exactly one file/,
    );
    assert.throws(() => main(root.args({ filename: 'x.qcow2', format: { type: 'qcow2' } })), /input 'image'/);
  });
});
