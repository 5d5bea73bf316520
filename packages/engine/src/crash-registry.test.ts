import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { currentBootId, processStartTime, run, start } from '@debian-forge/host';
import {
  isMountPoint,
  listLoops,
  RESOURCES_DIRNAME,
  ResourceRegistry,
  releaseDeadEngines,
} from './crash-registry.ts';
import { needRoot } from './root.fixture.ts';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'forge-resources-test-'));
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function recordFiles(rundir: string): string[] {
  const dir = join(rundir, RESOURCES_DIRNAME);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A pid that belongs to no process now. */
async function deadPid(): Promise<number> {
  const { child, done } = start(['true'], { env: {} }, () => {});
  const pid = child.pid as number;
  await done;
  return pid;
}

/** Detaches every loop device bound to `file` and unmounts `target`; for finally blocks. */
async function cleanUp(opts: { files?: string[]; targets?: string[] }): Promise<void> {
  for (const target of opts.targets ?? []) {
    if (isMountPoint(target)) await run(['umount', '--lazy', target]).catch(() => {});
  }
  if (!opts.files?.length) return;
  for (const loop of await listLoops().catch(() => [])) {
    if (opts.files.includes(loop.backingFile))
      await run(['losetup', '--detach', loop.device]).catch(() => {});
  }
}

describe('ResourceRegistry', () => {
  it('keeps an atomically rewritten record of this process and removes it on close', async () => {
    const rundir = join(work, 'plain');
    const registry = await ResourceRegistry.open(rundir);
    const start = processStartTime(process.pid);
    assert.ok(start);
    assert.ok(registry.file.startsWith(join(rundir, RESOURCES_DIRNAME, `${process.pid}-${start}`)));
    const read = () => JSON.parse(readFileSync(registry.file, 'utf8'));
    assert.deepEqual(read().entries, []);
    assert.equal(read().bootId, currentBootId());

    // Nothing is bound or mounted at these: close() must leave them alone and still succeed.
    registry.addLoop('/dev/loop-that-does-not-exist', join(work, 'nothing.img'), 512);
    registry.addMount(join(work, 'not-a-mount-point'));
    assert.deepEqual(
      read().entries.map((e: { kind: string }) => e.kind),
      ['loop', 'mount'],
    );
    assert.equal(read().entries[0].offset, 512);
    registry.removeLoop('/dev/loop-that-does-not-exist');
    assert.deepEqual(
      read().entries.map((e: { kind: string }) => e.kind),
      ['mount'],
    );
    assert.deepEqual(
      recordFiles(rundir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    await registry.close();
    assert.equal(existsSync(registry.file), false);
    await registry.close(); // idempotent
    assert.throws(() => registry.addMount('/x'), /closed/);
  });

  it('leaves the records of living engines alone, and drops dead ones', async () => {
    const rundir = join(work, 'living');
    const first = await ResourceRegistry.open(rundir);
    first.addMount(join(work, 'first-target'));
    const dir = join(rundir, RESOURCES_DIRNAME);
    const pid = await deadPid();
    const deadRecord = `${pid}-12345.json`;
    writeFileSync(
      join(dir, deadRecord),
      JSON.stringify({ version: 1, pid, startTime: '12345', bootId: currentBootId(), entries: [] }),
    );
    // Our own pid with another start time: a previous process that had the same pid.
    const reused = `${process.pid}-1.json`;
    writeFileSync(join(dir, reused), JSON.stringify({ version: 1, entries: [] }));
    writeFileSync(join(dir, `${pid}-12345.json.tmp`), '{');
    const second = await ResourceRegistry.open(rundir);
    try {
      const files = recordFiles(rundir);
      assert.ok(!files.includes(deadRecord), 'the dead engine record is gone');
      assert.ok(!files.includes(reused), 'the record of a reused pid is gone');
      assert.ok(!files.some((f) => f.endsWith('.tmp')));
      assert.ok(files.includes(first.file.split('/').pop() as string), 'the living record stays');
      assert.ok(files.includes(second.file.split('/').pop() as string));
      assert.notEqual(first.file, second.file);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('releases the mounts and loop devices of a dead engine, but not a loop device now bound elsewhere', async (t) => {
    if (!needRoot(t, 'loop devices and mounts', ['losetup', 'mount', 'umount', 'mkfs.ext4'])) return;
    const rundir = join(work, 'dead');
    const image = join(work, 'dead.img');
    const other = join(work, 'other.img');
    const target = join(work, 'dead-mnt');
    writeFileSync(image, Buffer.alloc(1 << 20));
    writeFileSync(other, Buffer.alloc(1 << 20));
    mkdirSync(target);
    try {
      await run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'forge-test', target]);
      const ours = (await run(['losetup', '--find', '--show', '--offset', '4096', image])).stdout.trim();
      const elsewhere = (await run(['losetup', '--find', '--show', other])).stdout.trim();
      const pid = await deadPid();
      mkdirSync(join(rundir, RESOURCES_DIRNAME), { recursive: true });
      writeFileSync(
        join(rundir, RESOURCES_DIRNAME, `${pid}-777.json`),
        JSON.stringify({
          version: 1,
          pid,
          startTime: '777',
          bootId: currentBootId(),
          entries: [
            { kind: 'loop', device: ours, backingFile: image, offset: 4096 },
            // The dead engine's device was since reused for another file: it must stay.
            { kind: 'loop', device: elsewhere, backingFile: image, offset: 0 },
            { kind: 'mount', target },
          ],
        }),
      );
      const registry = await ResourceRegistry.open(rundir);
      await registry.close();
      assert.equal(isMountPoint(target), false, 'the mount is released');
      const loops = await listLoops();
      assert.equal(
        loops.find((l) => l.device === ours),
        undefined,
        'the recorded loop device is detached',
      );
      assert.ok(
        loops.find((l) => l.device === elsewhere && l.backingFile === other),
        'a device bound to another file stays',
      );
      assert.deepEqual(recordFiles(rundir), []);
    } finally {
      await cleanUp({ files: [image, other], targets: [target] });
    }
  });

  it("releaseDeadEngines releases a dead engine's mount, leaves a living one's and records nothing of its own", async (t) => {
    if (!needRoot(t, 'loop devices and mounts', ['losetup', 'mount', 'umount', 'mkfs.ext4'])) return;
    const rundir = join(work, 'supervisor');
    const target = join(work, 'supervisor-mnt');
    mkdirSync(target);
    const living = await ResourceRegistry.open(rundir);
    try {
      await run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'forge-test', target]);
      const pid = await deadPid();
      const record = { version: 1, pid, startTime: '778', bootId: currentBootId() };
      writeFileSync(
        join(rundir, RESOURCES_DIRNAME, `${pid}-778.json`),
        JSON.stringify({ ...record, entries: [{ kind: 'mount', target }] }),
      );
      await releaseDeadEngines(rundir);
      assert.equal(isMountPoint(target), false, 'the mount is released');
      assert.deepEqual(recordFiles(rundir), [living.file.split('/').pop()]);
    } finally {
      await living.close();
      await cleanUp({ targets: [target] });
    }
  });

  it('close() releases what is still recorded, mounts before loop devices', async (t) => {
    if (!needRoot(t, 'loop devices and mounts', ['losetup', 'mount', 'umount', 'mkfs.ext4'])) return;
    const rundir = join(work, 'close');
    const image = join(work, 'close.img');
    const target = join(work, 'close-mnt');
    writeFileSync(image, Buffer.alloc(4 << 20));
    mkdirSync(target);
    try {
      await run(['mkfs.ext4', '-q', image]);
      const registry = await ResourceRegistry.open(rundir);
      const device = (await run(['losetup', '--find', '--show', image])).stdout.trim();
      registry.addLoop(device, image, 0);
      registry.addMount(target);
      await run(['mount', device, target]);
      // An open file keeps the mount busy: close() must still get rid of it (lazily).
      const fd = openSync(join(target, 'busy'), 'w');
      try {
        await registry.close();
      } finally {
        closeSync(fd);
      }
      assert.equal(isMountPoint(target), false);
      assert.deepEqual(recordFiles(rundir), []);
      // The lazily unmounted file system lets go of the device once the file is closed, and the
      // device, marked for auto-clearing by the detach, goes with it.
      for (let i = 0; i < 50 && (await listLoops()).some((l) => l.device === device); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(
        (await listLoops()).some((l) => l.device === device && l.backingFile === image),
        false,
      );
    } finally {
      await cleanUp({ files: [image], targets: [target] });
    }
  });

  it('cleans up after an engine killed with SIGKILL', async (t) => {
    if (!needRoot(t, 'loop devices and mounts', ['losetup', 'mount', 'umount', 'mkfs.ext4'])) return;
    const rundir = join(work, 'crash');
    const dir = join(work, 'crash-work');
    mkdirSync(join(dir, 'tree'), { recursive: true });
    mkdirSync(join(dir, 'dev'));
    mkdirSync(join(dir, 'mounts'));
    const image = join(dir, 'tree', 'disk.img');
    writeFileSync(image, Buffer.alloc(8 << 20));
    await run(['mkfs.ext4', '-q', image]);
    const src = (name: string) => fileURLToPath(new URL(name, import.meta.url));
    const script = join(dir, 'engine.mts');
    writeFileSync(
      script,
      `import { ResourceRegistry } from ${JSON.stringify(src('./crash-registry.ts'))};
import { openDevices } from ${JSON.stringify(src('./devices/index.ts'))};
import { mountAll } from ${JSON.stringify(src('./mounts/index.ts'))};
const [rundir, tree, devDir, root] = process.argv.slice(2);
const registry = await ResourceRegistry.open(rundir);
const device = { name: 'disk', type: 'org.osbuild.loopback', parent: null, options: { filename: 'disk.img' }, id: 'd' };
const devices = await openDevices(new Map([['disk', device]]), { tree, devDir, registry, log: () => {} });
const mount = { name: 'root', type: 'org.osbuild.ext4', device, partition: null, partitionJson: null, target: '/', options: {}, id: 'm' };
await mountAll(new Map([['root', mount]]), devices, { root, tree, registry, log: () => {} });
console.log('READY ' + devices.get('disk').path);
setInterval(() => {}, 1000);
`,
    );
    const root = join(dir, 'mounts');
    let device = '';
    try {
      let output = '';
      let ready: () => void = () => {};
      const started = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const { child, done } = start(
        ['node', '--import', 'tsx', script, rundir, join(dir, 'tree'), join(dir, 'dev'), root],
        {
          env: { ...process.env } as Record<string, string>,
          cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        },
        (chunk) => {
          output += chunk;
          const m = /READY (\S+)/.exec(output);
          if (m && !device) {
            device = m[1] as string;
            ready();
          }
        },
      );
      await Promise.race([
        started,
        done.then(() => {
          throw new Error(`the engine exited early:\n${output}`);
        }),
      ]);
      assert.ok(isMountPoint(root), 'the engine mounted');
      child.kill('SIGKILL');
      await done;
      // The engine is gone; what it held is still there.
      assert.ok(isMountPoint(root), 'the mount outlives the killed engine');
      assert.ok((await listLoops()).some((l) => l.device === device && l.backingFile === image));

      const registry = await ResourceRegistry.open(rundir);
      await registry.close();
      assert.equal(isMountPoint(root), false, 'the mount is released');
      assert.equal(
        (await listLoops()).some((l) => l.backingFile === image),
        false,
        'the loop device is detached',
      );
      assert.deepEqual(recordFiles(rundir), []);
    } finally {
      await cleanUp({ files: [image], targets: [root] });
    }
  });
});
