/**
 * The engine under stress, with the real `forge` as root: a build killed with SIGKILL while a stage
 * holds a loop device and an ext4 mount; two builds sharing one store at the same time; and a
 * bounded cache evicting its least recently used objects.
 *
 * Every test has its own store and its own --rundir (a temporary directory), so it never touches
 * the records of other builds on this machine, and it only looks at loop devices backed by its own
 * files and mounts below its own directory.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forgeChild } from '@debian-forge/cli/testing/serve';
import { sandboxUnavailable, tempDir, testLibdir, writeJson } from './engine.fixture.ts';
import { debugfs, forgeAsync, releaseUnder, resourcesUnder, sh, sha256 } from './engine-host.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping the crash, concurrency and eviction tests: ${skip}`);

const FS_UUID = 'a5a4d1a8-5a8e-4c3e-9f43-1d7b0e6f0c11';

/** truncate → mkfs.ext4 (loop device) → the probe stage with the file system mounted. */
function diskManifest(probe: Record<string, unknown>) {
  const loop = { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } };
  return {
    version: '2',
    pipelines: [
      {
        name: 'disk',
        stages: [
          { type: 'org.osbuild.truncate', options: { filename: 'disk.img', size: '32M' } },
          { type: 'org.osbuild.mkfs.ext4', options: { uuid: FS_UUID }, devices: { device: loop } },
          {
            type: 'org.forge.test.probe',
            options: probe,
            devices: { disk: loop },
            mounts: [{ name: 'root', type: 'org.osbuild.ext4', source: 'disk', target: '/' }],
          },
        ],
      },
    ],
  };
}

/** Checks that every object in the store is complete, and returns their ids. */
function storedObjects(store: string): string[] {
  const ids = readdirSync(join(store, 'objects')).sort();
  for (const id of ids) {
    const obj = join(store, 'objects', id);
    assert.match(id, /^[0-9a-f]{64}$/, `object name ${id}`);
    assert.ok(statSync(join(obj, 'data/tree')).isDirectory(), `${id} has data/tree`);
    assert.ok(statSync(join(obj, 'data/meta')).isDirectory(), `${id} has data/meta`);
    assert.ok(existsSync(join(obj, 'object.lock')), `${id} has object.lock`);
    const info = JSON.parse(readFileSync(join(obj, 'object.info'), 'utf8')) as { size: number };
    assert.ok(Number.isInteger(info.size) && info.size > 0, `${id} has a size`);
  }
  return ids;
}

/** Work areas of the store that are still there (stage/ and tmp/). */
function workLeft(store: string): string[] {
  return ['stage', 'tmp'].flatMap((d) =>
    existsSync(join(store, d)) ? readdirSync(join(store, d)).map((n) => `${d}/${n}`) : [],
  );
}

function waitFor(child: ReturnType<typeof forgeChild>, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms:\n${out}`)), ms);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`forge exited (${code}) before ${pattern}:\n${out}`));
    });
  });
}

describe('forge build killed with SIGKILL mid-stage', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  let child: ReturnType<typeof forgeChild> | undefined;
  before(() => {
    dir = tempDir('forge-crash-');
    libdir = testLibdir(dir.path);
  });
  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (!dir) return;
    releaseUnder(dir.path);
    dir.cleanup();
  });

  it('leaves nothing after the next run, and the store still builds correctly', async () => {
    const store = join(dir.path, 'store');
    const rundir = join(dir.path, 'run');
    const cache = ['--checkpoint', '*', '--cache-max-size', 'unlimited'];
    const build = (manifest: string, storeDir: string, out: string) =>
      forgeAsync([
        'build',
        manifest,
        '--libdir',
        libdir,
        '--store',
        storeDir,
        '--rundir',
        rundir,
        ...cache,
        '--export',
        'disk',
        '--output-directory',
        out,
      ]);

    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
    const crashing = writeJson(
      join(dir.path, 'crash.json'),
      diskManifest({ write: ['/run/osbuild/mounts/crashed'], sleep: 600 }),
    );
    child = forgeChild([
      'build',
      crashing,
      '--libdir',
      libdir,
      '--store',
      store,
      '--rundir',
      rundir,
      ...cache,
      '--export',
      'disk',
      '--output-directory',
      join(dir.path, 'never'),
    ]);
    const deadPid = child.pid as number;
    await waitFor(child, /^sleeping$/m, 90_000);

    // The stage is running: its loop device, its /dev and its mount are live, and recorded.
    const live = resourcesUnder(dir.path);
    assert.equal(live.loops.length, 1, `one loop device: ${JSON.stringify(live)}`);
    assert.equal(live.mounts.length, 2, `the stage's /dev and its mount: ${JSON.stringify(live)}`);
    assert.ok(
      live.mounts.some((m) => m.endsWith('/dev')),
      JSON.stringify(live),
    );
    const records = readdirSync(join(rundir, 'forge-resources'));
    assert.equal(records.length, 1);
    assert.match(records[0] as string, new RegExp(`^${deadPid}-\\d+\\.json$`));

    const exited = new Promise((done) => child?.once('exit', done));
    child.kill('SIGKILL');
    await exited;
    // Killed, the engine released nothing: the loop device and the mount are still there.
    assert.deepEqual(resourcesUnder(dir.path), live);

    // The next build with the same --rundir and store, of the manifest without the sleep.
    const fixed = writeJson(
      join(dir.path, 'fixed.json'),
      diskManifest({ write: ['/run/osbuild/mounts/done'] }),
    );
    const r = await build(fixed, store, join(dir.path, 'out'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] }, 'the dead build left resources');
    assert.deepEqual(readdirSync(join(rundir, 'forge-resources')), [], 'resource records left');
    // It resumed from the stages the killed build had committed.
    assert.match(r.stdout, /starting from stored stage org\.osbuild\.mkfs\.ext4/);
    assert.deepEqual(workLeft(store), [], 'work directories of the dead build left in the store');
    assert.equal(storedObjects(store).length, 3);

    // Same result as a clean store.
    const clean = await build(fixed, join(dir.path, 'clean-store'), join(dir.path, 'clean-out'));
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
    const look = (image: string) => {
      sh(['e2fsck', '-f', '-n', image]);
      const [root] = debugfs(image, ['ls -l /']);
      const names = (root ?? '')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 9)
        .map((f) => f.slice(8).join(' '));
      return {
        uuid: /Filesystem UUID:\s+(\S+)/.exec(sh(['dumpe2fs', '-h', image]))?.[1],
        names: names.sort(),
        size: statSync(image).size,
      };
    };
    const resumed = look(join(dir.path, 'out/disk/disk.img'));
    assert.deepEqual(resumed, {
      uuid: FS_UUID,
      names: ['.', '..', 'done', 'lost+found'],
      size: 32 * 1024 ** 2,
    });
    assert.deepEqual(look(join(dir.path, 'clean-out/disk/disk.img')), resumed);
  });
});

describe('two builds sharing one store at the same time', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  before(() => {
    dir = tempDir('forge-concurrent-');
    libdir = testLibdir(dir.path);
  });
  after(() => {
    if (!dir) return;
    releaseUnder(dir.path);
    dir.cleanup();
  });

  /** A tree pipeline; both manifests share the first three stages (the third overlaps the builds). */
  const manifest = (last: string) => {
    const data = Buffer.from(`shared between two builds\n`);
    const sum = `sha256:${sha256(data)}`;
    return {
      version: '2',
      pipelines: [
        {
          name: 'tree',
          stages: [
            { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/srv/forge', parents: true }] } },
            {
              type: 'org.osbuild.copy',
              inputs: { f: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [sum] } },
              options: { paths: [{ from: `input://f/${sum}`, to: 'tree:///srv/forge/shared' }] },
            },
            { type: 'org.forge.test.probe', options: { sleep: 5 } },
            { type: 'org.osbuild.mkdir', options: { paths: [{ path: `/srv/forge/${last}` }] } },
          ],
        },
      ],
      sources: {
        'org.osbuild.inline': { items: { [sum]: { encoding: 'base64', data: data.toString('base64') } } },
      },
    };
  };

  it('both succeed, and the store is consistent afterwards', async () => {
    const store = join(dir.path, 'store');
    const flags = (name: string) => [
      '--libdir',
      libdir,
      '--store',
      store,
      '--rundir',
      join(dir.path, `run-${name}`),
      '--checkpoint',
      '*',
      '--cache-max-size',
      'unlimited',
      '--export',
      'tree',
      '--output-directory',
      join(dir.path, `out-${name}`),
    ];
    const a = writeJson(join(dir.path, 'a.json'), manifest('a'));
    const b = writeJson(join(dir.path, 'b.json'), manifest('b'));
    // When each build entered the sleeping stage and when it ended.
    const span = { a: { sleeping: 0, done: 0 }, b: { sleeping: 0, done: 0 } };
    const run = async (name: 'a' | 'b', path: string) => {
      const r = await forgeAsync(['build', path, ...flags(name)], (out) => {
        if (!span[name].sleeping && /^sleeping$/m.test(out)) span[name].sleeping = Date.now();
      });
      span[name].done = Date.now();
      return r;
    };
    const [ra, rb] = await Promise.all([run('a', a), run('b', b)]);
    assert.equal(ra.status, 0, ra.stdout + ra.stderr);
    assert.equal(rb.status, 0, rb.stdout + rb.stderr);
    // They did run at the same time: each was in the shared stage while the other had not finished.
    assert.ok(span.a.sleeping > 0 && span.b.sleeping > 0, 'both ran the sleeping stage');
    assert.ok(span.a.sleeping < span.b.done && span.b.sleeping < span.a.done, JSON.stringify(span));
    for (const [name, r] of [
      ['a', ra],
      ['b', rb],
    ] as const) {
      const out = join(dir.path, `out-${name}/tree/srv/forge`);
      assert.deepEqual(readdirSync(out).sort(), [name, 'shared'], r.stdout);
      assert.equal(readFileSync(join(out, 'shared'), 'utf8'), 'shared between two builds\n');
    }
    // Three shared stages and one last stage each: five objects, all complete; no work left over.
    assert.equal(storedObjects(store).length, 5);
    assert.deepEqual(workLeft(store), []);

    // The store is usable: both manifests now build nothing.
    for (const [name, path] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const again = await forgeAsync(['build', path, ...flags(`${name}2`)]);
      assert.equal(again.status, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /Nothing to build/);
      assert.deepEqual(readdirSync(join(dir.path, `out-${name}2/tree/srv/forge`)).sort(), [name, 'shared']);
    }
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
  });
});

describe('--cache-max-size', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  before(() => {
    dir = tempDir('forge-evict-');
    libdir = testLibdir(dir.path);
  });
  after(() => dir?.cleanup());

  const KiB = 1024;
  /** One stage copying 400 KiB of incompressible, seed-determined bytes into the tree. */
  const blobManifest = (seed: number) => {
    const data = Buffer.alloc(400 * KiB);
    let x = seed * 2654435761;
    for (let i = 0; i < data.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      data[i] = x >>> 24;
    }
    const sum = `sha256:${sha256(data)}`;
    return {
      version: '2',
      pipelines: [
        {
          name: 'blob',
          stages: [
            {
              type: 'org.osbuild.copy',
              inputs: { f: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [sum] } },
              options: { paths: [{ from: `input://f/${sum}`, to: `tree:///blob-${seed}` }] },
            },
          ],
        },
      ],
      sources: {
        'org.osbuild.inline': { items: { [sum]: { encoding: 'base64', data: data.toString('base64') } } },
      },
    };
  };

  it('evicts the least recently used objects, and a later build still succeeds', async () => {
    const store = join(dir.path, 'store');
    const MAX = 1024 * KiB; // room for two objects of ~410 KiB, not three
    const paths = [1, 2, 3].map((n) => writeJson(join(dir.path, `blob-${n}.json`), blobManifest(n)));
    const ids: string[] = [];
    for (const p of paths) {
      const r = await forgeAsync(['inspect', p]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const m = JSON.parse(r.stdout) as { pipelines: { stages: { id: string }[] }[] };
      ids.push(m.pipelines[0]?.stages[0]?.id as string);
    }
    const [id1, id2, id3] = ids as [string, string, string];
    let run = 0;
    const build = async (n: number) => {
      const out = join(dir.path, `out-${++run}`);
      const r = await forgeAsync([
        'build',
        paths[n - 1] as string,
        '--libdir',
        libdir,
        '--store',
        store,
        '--rundir',
        join(dir.path, 'run'),
        '--checkpoint',
        '*',
        '--cache-max-size',
        String(MAX),
        '--export',
        'blob',
        '--output-directory',
        out,
      ]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(statSync(join(out, `blob/blob-${n}`)).size, 400 * KiB);
      const objects = storedObjects(store);
      const total = objects.reduce(
        (sum, id) =>
          sum +
          (JSON.parse(readFileSync(join(store, 'objects', id, 'object.info'), 'utf8')) as { size: number })
            .size,
        0,
      );
      assert.ok(total <= MAX, `the cache holds ${total} bytes, more than ${MAX}`);
      return { objects, stdout: r.stdout };
    };
    const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

    assert.deepEqual((await build(1)).objects, [id1]);
    await sleep(1100);
    assert.deepEqual((await build(2)).objects, [id1, id2].sort());
    await sleep(1100);
    // Using 1 again makes 2 the least recently used.
    const reuse = await build(1);
    assert.match(reuse.stdout, /Nothing to build/);
    await sleep(1100);
    assert.deepEqual((await build(3)).objects, [id1, id3].sort(), '2 was evicted for 3');
    await sleep(1100);
    // 2 is built again (not from the cache), and now 1 is the least recently used.
    const again = await build(2);
    assert.doesNotMatch(again.stdout, /Nothing to build/);
    assert.deepEqual(again.objects, [id2, id3].sort(), '1 was evicted for 2');
    assert.deepEqual(workLeft(store), []);
  });
});
