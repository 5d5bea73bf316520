/**
 * A disk image built with the real `forge` as root, as OSBuild's image manifests build one: a tree
 * pipeline; an image pipeline that truncates a file, writes a GPT with two partitions (sfdisk on a
 * loop device), makes ext4 on partition 2 through a loop device with start/size, and copies the
 * tree into that file system through an org.osbuild.ext4 mount (once more through a whole-disk loop
 * device and `partition: 2`); a tar pipeline of the tree; and a qcow2 pipeline of the image. The
 * exports are read back with sfdisk, debugfs, e2fsck, tar and qemu-img, and no loop device or mount
 * may be left behind.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sandboxUnavailable, tempDir, testLibdir, writeJson } from './engine.fixture.ts';
import { debugfs, forgeAsync, releaseUnder, resourcesUnder, sh, sha256 } from './engine-host.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping the disk image build: ${skip}`);

const MiB = 1024 ** 2;
const DISK_SIZE = 64 * MiB;
const EFI_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const LINUX_TYPE = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const TABLE_UUID = 'D209C89E-EA5E-4FBD-B161-B461CCE297E0';
const ROOT_PART_UUID = '6264D520-3FB9-423F-8AB8-7A0A8E3D3562';
const FS_UUID = '76a22bf4-f153-4541-b6c7-0332c0dfaeac';
const P1 = { start: 2048, size: 16384 };
const P2 = { start: 18432, size: 110592 };

const motd = Buffer.from('Built by Debian Forge into partition 2.\n');
const motdSum = `sha256:${sha256(motd)}`;
const script = Buffer.from('#!/bin/sh\necho hello\n');
const scriptSum = `sha256:${sha256(script)}`;

function diskManifest() {
  const slice = (p: { start: number; size: number }) => ({
    type: 'org.osbuild.loopback',
    options: { filename: 'disk.img', start: p.start, size: p.size },
  });
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        'source-epoch': 1700000000,
        stages: [
          {
            type: 'org.osbuild.mkdir',
            options: {
              paths: [
                { path: '/etc/forge', mode: 0o755, parents: true },
                { path: '/usr/local/bin', mode: 0o755, parents: true },
              ],
            },
          },
          {
            type: 'org.osbuild.copy',
            inputs: {
              files: {
                type: 'org.osbuild.files',
                origin: 'org.osbuild.source',
                references: [motdSum, scriptSum],
              },
            },
            options: {
              paths: [
                { from: `input://files/${motdSum}`, to: 'tree:///etc/forge/motd' },
                { from: `input://files/${scriptSum}`, to: 'tree:///usr/local/bin/hello' },
              ],
            },
          },
          { type: 'org.osbuild.chmod', options: { items: { '/usr/local/bin/hello': { mode: '0755' } } } },
        ],
      },
      {
        name: 'image',
        stages: [
          { type: 'org.osbuild.truncate', options: { filename: 'disk.img', size: String(DISK_SIZE) } },
          {
            type: 'org.osbuild.sfdisk',
            options: {
              label: 'gpt',
              uuid: TABLE_UUID,
              partitions: [
                { ...P1, type: EFI_TYPE, name: 'ESP' },
                { ...P2, type: LINUX_TYPE, name: 'root', uuid: ROOT_PART_UUID },
              ],
            },
            devices: { device: { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } } },
          },
          {
            type: 'org.osbuild.mkfs.ext4',
            options: { uuid: FS_UUID, label: 'root' },
            devices: { device: slice(P2) },
          },
          {
            type: 'org.osbuild.copy',
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:tree'] },
            },
            options: { paths: [{ from: 'input://tree/', to: 'mount://root/' }] },
            devices: { root: slice(P2) },
            mounts: [{ name: 'root', type: 'org.osbuild.ext4', source: 'root', target: '/' }],
          },
          {
            // The same file system again, reached through the whole disk and `partition: 2`.
            type: 'org.osbuild.copy',
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:tree'] },
            },
            options: {
              paths: [{ from: 'input://tree/etc/forge/motd', to: 'mount://root/motd-via-partition' }],
            },
            devices: { disk: { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } } },
            mounts: [{ name: 'root', type: 'org.osbuild.ext4', source: 'disk', partition: 2, target: '/' }],
          },
        ],
      },
      {
        name: 'tar',
        stages: [
          {
            type: 'org.osbuild.tar',
            options: { filename: 'tree.tar' },
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:tree'] },
            },
          },
        ],
      },
      {
        name: 'qcow2',
        stages: [
          {
            type: 'org.osbuild.qemu',
            options: { filename: 'disk.qcow2', format: { type: 'qcow2', compat: '1.1' } },
            inputs: {
              image: {
                type: 'org.osbuild.files',
                origin: 'org.osbuild.pipeline',
                references: { 'name:image': { file: 'disk.img' } },
              },
            },
          },
        ],
      },
    ],
    sources: {
      'org.osbuild.inline': {
        items: {
          [motdSum]: { encoding: 'base64', data: motd.toString('base64') },
          [scriptSum]: { encoding: 'base64', data: script.toString('base64') },
        },
      },
    },
  };
}

/** Entry names and modes of a `debugfs ls -l` listing. */
function entries(listing: string): Map<string, { mode: string; size: number }> {
  const out = new Map<string, { mode: string; size: number }>();
  for (const line of listing.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    out.set(f.slice(8).join(' '), { mode: f[1] as string, size: Number(f[5]) });
  }
  return out;
}

describe('forge build of a partitioned disk image', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let out: string;
  let stdout: string;
  let before_: { loops: string[]; mounts: string[] };

  before(async () => {
    dir = tempDir('forge-disk-');
    const libdir = testLibdir(dir.path);
    out = join(dir.path, 'out');
    const manifest = writeJson(join(dir.path, 'disk.json'), diskManifest());
    before_ = resourcesUnder(dir.path);
    const r = await forgeAsync([
      'build',
      manifest,
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store'),
      '--rundir',
      join(dir.path, 'run'),
      '--export',
      'image',
      '--export',
      'tar',
      '--export',
      'qcow2',
      '--export',
      'tree',
      '--output-directory',
      out,
    ]);
    stdout = r.stdout;
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  after(() => {
    if (!dir) return;
    releaseUnder(dir.path);
    dir.cleanup();
  });

  it('leaves no loop device and no mount behind', () => {
    assert.deepEqual(before_, { loops: [], mounts: [] });
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
    // Each of the four device stages got a loop device, the partition mount a stacked one, and all went.
    assert.equal((stdout.match(/\/dev\/loop\d+ acquired for/g) ?? []).length, 4);
    assert.equal((stdout.match(/\/dev\/loop\d+ released/g) ?? []).length, 4);
    assert.match(stdout, /partition 2 of \/dev\/loop\d+ attached as \/dev\/loop\d+/);
    assert.equal((stdout.match(/mounting \/dev\/loop\d+ -> /g) ?? []).length, 2);
  });

  it('writes the GPT the manifest asks for', () => {
    assert.deepEqual(readdirSync(join(out, 'image')), ['disk.img']);
    const image = join(out, 'image/disk.img');
    assert.equal(statSync(image).size, DISK_SIZE);
    const { partitiontable: pt } = JSON.parse(sh(['sfdisk', '--json', image])) as {
      partitiontable: {
        label: string;
        id: string;
        sectorsize: number;
        partitions: { start: number; size: number; type: string; name?: string; uuid?: string }[];
      };
    };
    assert.equal(pt.label, 'gpt');
    assert.equal(pt.id, TABLE_UUID);
    assert.equal(pt.sectorsize, 512);
    assert.deepEqual(
      pt.partitions.map((p) => ({ start: p.start, size: p.size, type: p.type, name: p.name })),
      [
        { ...P1, type: EFI_TYPE, name: 'ESP' },
        { ...P2, type: LINUX_TYPE, name: 'root' },
      ],
    );
    assert.equal(pt.partitions[1]?.uuid, ROOT_PART_UUID);
  });

  it('fills partition 2 with an ext4 file system holding the tree', () => {
    // Cut the partition out, so debugfs and e2fsck see exactly its bytes and nothing beyond.
    const part = join(dir.path, 'part2.img');
    sh([
      'dd',
      `if=${join(out, 'image/disk.img')}`,
      `of=${part}`,
      'bs=512',
      `skip=${P2.start}`,
      `count=${P2.size}`,
      'status=none',
    ]);
    sh(['e2fsck', '-f', '-n', part]);
    const header = sh(['dumpe2fs', '-h', part]);
    assert.match(header, new RegExp(`Filesystem UUID:\\s+${FS_UUID}\\n`));
    assert.match(header, /Filesystem volume name:\s+root\n/);
    const blocks = Number(/Block count:\s+(\d+)/.exec(header)?.[1]);
    const blockSize = Number(/Block size:\s+(\d+)/.exec(header)?.[1]);
    assert.equal(blocks * blockSize, P2.size * 512, 'the file system fills the partition exactly');

    const [root, etc, bin, motdOut, viaPartition, hello] = debugfs(part, [
      'ls -l /',
      'ls -l /etc/forge',
      'ls -l /usr/local/bin',
      'cat /etc/forge/motd',
      'cat /motd-via-partition',
      'cat /usr/local/bin/hello',
    ]);
    assert.deepEqual([...entries(root ?? '').keys()].sort(), [
      '.',
      '..',
      'etc',
      'lost+found',
      'motd-via-partition',
      'usr',
    ]);
    assert.deepEqual(entries(etc ?? '').get('motd'), { mode: '100644', size: motd.length });
    assert.deepEqual(entries(bin ?? '').get('hello'), { mode: '100755', size: script.length });
    assert.equal(motdOut, motd.toString());
    assert.equal(viaPartition, motd.toString());
    assert.equal(hello, script.toString());

    // Partition 1 was left alone: still zeros.
    const p1 = sh([
      'dd',
      `if=${join(out, 'image/disk.img')}`,
      'bs=512',
      `skip=${P1.start}`,
      `count=${P1.size}`,
      'status=none',
    ]);
    assert.ok(/^\0*$/.test(p1), 'partition 1 is untouched');
  });

  it('exports a tar of the tree', () => {
    assert.deepEqual(readdirSync(join(out, 'tar')), ['tree.tar']);
    const tar = join(out, 'tar/tree.tar');
    const lines = sh(['tar', '--numeric-owner', '-tvf', tar])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(/\s+/));
    const byName = new Map(lines.map((f) => [f[5], { mode: f[0], owner: f[1], size: Number(f[2]) }]));
    assert.deepEqual([...byName.keys()].sort(), [
      './',
      './etc/',
      './etc/forge/',
      './etc/forge/motd',
      './usr/',
      './usr/local/',
      './usr/local/bin/',
      './usr/local/bin/hello',
    ]);
    assert.deepEqual(byName.get('./etc/forge/motd'), { mode: '-rw-r--r--', owner: '0/0', size: motd.length });
    assert.deepEqual(byName.get('./usr/local/bin/hello'), {
      mode: '-rwxr-xr-x',
      owner: '0/0',
      size: script.length,
    });
    assert.equal(sh(['tar', '-xOf', tar, './etc/forge/motd']), motd.toString());
    // The exported tree and the tar agree.
    assert.deepEqual(readFileSync(join(out, 'tree/etc/forge/motd')), motd);
  });

  it('exports a qcow2 of the image with the same contents', () => {
    assert.deepEqual(readdirSync(join(out, 'qcow2')), ['disk.qcow2']);
    const qcow2 = join(out, 'qcow2/disk.qcow2');
    const info = JSON.parse(sh(['qemu-img', 'info', '--output=json', qcow2])) as {
      format: string;
      'virtual-size': number;
      'format-specific'?: { data?: { compat?: string } };
    };
    assert.equal(info.format, 'qcow2');
    assert.equal(info['virtual-size'], DISK_SIZE);
    assert.equal(info['format-specific']?.data?.compat, '1.1');
    // Compressed, sparse: much smaller than the raw image.
    assert.ok(statSync(qcow2).size < DISK_SIZE / 4);
    // qemu-img compare exits 0 when the guest-visible contents are identical.
    sh(['qemu-img', 'compare', '-f', 'qcow2', '-F', 'raw', qcow2, join(out, 'image/disk.img')]);
  });
});
