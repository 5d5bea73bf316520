import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '@debian-forge/host';
import type { Device } from '@debian-forge/manifest';
import { listLoops, ResourceRegistry } from '../crash-registry.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { needRoot } from '../root.fixture.ts';
import { type DeviceHandle, openDevices } from './index.ts';

let work: string;
let tree: string;
let devDir: string;
let registry: ResourceRegistry;
const lines: string[] = [];
const log = (line: string) => lines.push(line);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'forge-devices-test-'));
  tree = join(work, 'tree');
  devDir = join(work, 'dev');
  mkdirSync(tree);
  mkdirSync(devDir);
  registry = await ResourceRegistry.open(join(work, 'run'));
});

after(async () => {
  // Whatever a failed test left: the registry releases it.
  await registry.close();
  rmSync(work, { recursive: true, force: true });
});

const loopback = (name: string, options: Record<string, unknown>, type = 'org.osbuild.loopback'): Device => ({
  name,
  type,
  parent: null,
  options,
  id: name,
});

const ctx = () => ({ tree, devDir, registry, log });

async function boundTo(file: string) {
  return (await listLoops()).filter((l) => l.backingFile === file);
}

async function closeAll(handles: Map<string, DeviceHandle> | undefined) {
  for (const h of [...(handles?.values() ?? [])].reverse()) await h.close().catch(() => {});
}

describe('openDevices: org.osbuild.loopback', () => {
  it('binds start/size of the file (in sectors), makes the node in devDir, and detaches on close', async (t) => {
    if (!needRoot(t, 'loop devices', ['losetup', 'mknod', 'blockdev'])) return;
    const image = join(tree, 'disk.img');
    writeFileSync(image, Buffer.alloc(8 << 20, 0xee));
    let devices: Map<string, DeviceHandle> | undefined;
    try {
      // 1 MiB in, 2 MiB long, with the file name written as absolute: it is still relative to the tree.
      devices = await openDevices(
        new Map([['disk', loopback('disk', { filename: '/disk.img', start: 2048, size: 4096 })]]),
        ctx(),
      );
      const disk = devices.get('disk');
      assert.ok(disk);
      assert.match(disk.path, /^\/dev\/loop\d+$/);
      assert.equal(disk.relpath, disk.path.slice('/dev/'.length));
      assert.equal(disk.node.major, 7);
      assert.equal((await run(['blockdev', '--getsize64', disk.path])).stdout.trim(), String(2 << 20));

      const node = statSync(join(devDir, disk.relpath));
      assert.ok(node.isBlockDevice());
      assert.equal(node.rdev, statSync(disk.path).rdev);
      assert.ok(
        registry.entries.some((e) => e.kind === 'loop' && e.device === disk.path && e.offset === 1 << 20),
      );

      // Write a pattern through the node in devDir: it lands 1 MiB into the file.
      const pattern = Buffer.from('forge-pattern-0123456789');
      const fd = openSync(join(devDir, disk.relpath), 'r+');
      writeSync(fd, pattern, 0, pattern.length, 0);
      closeSync(fd);
      await disk.close();
      const back = Buffer.alloc(pattern.length + 2);
      const file = openSync(image, 'r');
      readSync(file, back, 0, back.length, (1 << 20) - 1);
      closeSync(file);
      assert.deepEqual(back, Buffer.concat([Buffer.from([0xee]), pattern, Buffer.from([0xee])]));

      assert.deepEqual(await boundTo(image), [], 'detached');
      assert.equal(existsSync(join(devDir, disk.relpath)), false, 'the node is removed');
      assert.equal(
        registry.entries.some((e) => e.kind === 'loop' && e.device === disk.path),
        false,
      );
      await disk.close(); // idempotent
    } finally {
      await closeAll(devices);
    }
  });

  it('honours sector-size, read-only, and the rest of the file when size is missing', async (t) => {
    if (!needRoot(t, 'loop devices', ['losetup', 'mknod', 'blockdev'])) return;
    const image = join(tree, 'ro.img');
    writeFileSync(image, Buffer.alloc(4 << 20));
    let devices: Map<string, DeviceHandle> | undefined;
    try {
      devices = await openDevices(
        new Map([
          ['ro', loopback('ro', { filename: 'ro.img', start: 256, 'sector-size': 4096, 'read-only': true })],
        ]),
        ctx(),
      );
      const ro = devices.get('ro') as DeviceHandle;
      const [status] = await boundTo(image);
      assert.equal(status?.offset, 1 << 20);
      assert.equal((await run(['blockdev', '--getsize64', ro.path])).stdout.trim(), String(3 << 20));
      assert.equal((await run(['blockdev', '--getss', ro.path])).stdout.trim(), '4096');
      assert.equal((await run(['blockdev', '--getro', ro.path])).stdout.trim(), '1');
      // The kernel refuses either the open for writing or, when root may open it, the write.
      const refused = { code: /^(EPERM|EROFS|EACCES)$/ };
      let writable: number | undefined;
      try {
        writable = openSync(ro.path, 'r+');
      } catch (e) {
        assert.match((e as NodeJS.ErrnoException).code ?? String(e), refused.code);
      }
      if (writable !== undefined) {
        try {
          assert.throws(() => writeSync(writable as number, Buffer.alloc(4096), 0, 4096, 0), refused);
        } finally {
          closeSync(writable);
        }
      }
    } finally {
      await closeAll(devices);
    }
    assert.deepEqual(await boundTo(image), []);
  });

  it('waits while the device is busy, and gives up with an error, keeping the record, after the timeout', async (t) => {
    if (!needRoot(t, 'loop devices', ['losetup', 'mknod', 'blockdev'])) return;
    const image = join(tree, 'busy.img');
    writeFileSync(image, Buffer.alloc(1 << 20));
    let devices: Map<string, DeviceHandle> | undefined;
    let fd: number | undefined;
    try {
      devices = await openDevices(new Map([['busy', loopback('busy', { filename: 'busy.img' })]]), {
        ...ctx(),
        detachTimeoutMs: 1500,
      });
      const busy = devices.get('busy') as DeviceHandle;
      fd = openSync(busy.path, 'r');
      const started = Date.now();
      await assert.rejects(
        busy.close(),
        (e: unknown) => e instanceof EngineError && /still busy/.test(e.message),
      );
      assert.ok(Date.now() - started >= 1400, 'it waited');
      assert.ok(registry.entries.some((e) => e.kind === 'loop' && e.device === busy.path));
      closeSync(fd);
      fd = undefined;
      await busy.close(); // now it lets go
      assert.deepEqual(await boundTo(image), []);
      assert.equal(
        registry.entries.some((e) => e.kind === 'loop' && e.device === busy.path),
        false,
      );
    } finally {
      if (fd !== undefined) closeSync(fd);
      await closeAll(devices);
    }
  });

  it('refuses an unknown device type by name, and closes what it opened when a later device fails', async (t) => {
    if (!needRoot(t, 'loop devices', ['losetup', 'mknod', 'blockdev'])) return;
    const a = join(tree, 'a.img');
    const b = join(tree, 'b.img');
    writeFileSync(a, Buffer.alloc(1 << 20));
    writeFileSync(b, Buffer.alloc(1 << 20));
    const before = (await listLoops()).length;
    await assert.rejects(
      openDevices(
        new Map([
          ['a', loopback('a', { filename: 'a.img' })],
          ['b', loopback('b', { filename: 'b.img' })],
          ['c', loopback('c', { passphrase: 'x' }, 'org.osbuild.luks2')],
        ]),
        ctx(),
      ),
      (e: unknown) =>
        e instanceof EngineError &&
        e.code === EngineErrorCode.Device &&
        /org\.osbuild\.luks2/.test(e.message),
    );
    assert.deepEqual(await boundTo(a), [], 'the first device was closed');
    assert.deepEqual(await boundTo(b), [], 'the second device was closed');
    assert.equal((await listLoops()).length, before);
    assert.equal(
      registry.entries.some((e) => e.kind === 'loop'),
      false,
    );

    await assert.rejects(
      openDevices(
        new Map([
          ['a', loopback('a', { filename: 'a.img' })],
          ['gone', loopback('gone', { filename: 'missing.img' })],
        ]),
        ctx(),
      ),
      (e: unknown) =>
        e instanceof EngineError && e.code === EngineErrorCode.Device && /missing\.img/.test(e.message),
    );
    assert.deepEqual(await boundTo(a), []);
    await assert.rejects(
      openDevices(new Map([['up', loopback('up', { filename: '../../etc/passwd' })]]), ctx()),
      /outside the tree/,
    );
  });

  it('refuses a file of the tree that is a symbolic link out of it: no host file is attached', async (t) => {
    if (!needRoot(t, 'loop devices', ['losetup', 'mknod', 'blockdev'])) return;
    const host = join(work, 'host.img');
    writeFileSync(host, Buffer.alloc(1024 * 1024));
    symlinkSync(host, join(tree, 'link.img'));
    mkdirSync(join(tree, 'dir'));
    symlinkSync(work, join(tree, 'dir', 'up'));
    for (const filename of ['link.img', '/dir/up/host.img']) {
      await assert.rejects(
        openDevices(new Map([['l', loopback('l', { filename })]]), ctx()),
        (e: unknown) =>
          e instanceof EngineError &&
          e.code === EngineErrorCode.Device &&
          /symbolic link .* outside the tree/.test(e.message),
      );
    }
    assert.deepEqual(await boundTo(host), []);
  });
});
