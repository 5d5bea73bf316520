/**
 * The five example manifests of OSBuild's `docs/manifest.md` (kept as data in
 * test/data/osbuild-docs/), built with the real `forge` as root: their ids are the ones the page
 * prints, and each export is what the page shows (`ls`, `tar tf`, `file`, the mounted disk).
 *
 * With FORGE_OSBUILD_SOURCE naming a checkout of OSBuild, they build with its stages and host modules
 * too, and real OSBuild of that checkout builds each: forge's exports are held against its own
 * (osbuild-run.fixture.ts says what must be the same and what differs between any two builds).
 *
 * The examples fetch one file with org.osbuild.curl from a web server on the author's machine. The
 * test serves that file itself on 127.0.0.1 and rewrites only the URL; the checksum stays, and a
 * source's URL is part of no id.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StaticServer, serveStatic } from '@debian-forge/engine/testing/http-static';
import {
  forge,
  osbuildCheckout,
  REPO,
  sandboxUnavailable,
  tempDir,
  testLibdir,
  writeJson,
} from './engine.fixture.ts';
import { debugfs, forgeAsync, releaseUnder, resourcesUnder, sh, sha256 } from './engine-host.fixture.ts';
import {
  assertSameExt4,
  assertSameTar,
  assertSameTree,
  osbuildAsync,
  osbuildUnavailable,
} from './osbuild-run.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping the docs/manifest.md examples: ${skip}`);

const DATA = join(REPO, 'test/data/osbuild-docs');
const DOC_URL = 'http://localhost:8080/curl-source-file.txt';
const INLINE = Buffer.from('I am an inline file\n');
const CURL = Buffer.from('I am a file on the web\n');
const INLINE_SUM = '659c11543b435c1503e4636cd9ad810f5cb99a3cafaf7be12a34e2d026ec33b7';
const CURL_SUM = '29ddbe330656a28c0cd1f77332464b74146b32765bc9194112fdc0ffdade8727';
const GiB = 1024 ** 3;
const UUID = '90f06397-4919-4dc0-aab3-f42d01d2de4f';

/** Stage ids per pipeline, as the page prints them (build logs and `--inspect`). */
const IDS: Record<number, Record<string, string[]>> = {
  1: {
    tree: [
      'cdf6bd2e0d305beac977095697a8ac0cec4d6f744847363081dfb6ad62c389f3',
      'fa0e466784d49682a1b7b3cb129b7a75b16bff9c2aed6aee3f0f1988056ce85a',
    ],
  },
  2: {
    res: [
      '22d5fa2cb7a2f19695f5ec64afb01e024cebd36dc20be7b114c96b9e3526bef5',
      'a84f99ff31bda4f4360dc7a93e0fb07c080909eaf4e8a9b3caf6066303c0b082',
    ],
  },
  3: {
    files: [
      'cdf6bd2e0d305beac977095697a8ac0cec4d6f744847363081dfb6ad62c389f3',
      'fa0e466784d49682a1b7b3cb129b7a75b16bff9c2aed6aee3f0f1988056ce85a',
      'e99c13a8fd22be471da3c0691200545571d71a94d7a44c98af1bce804291798c',
      '7a83e94e53883bb2e910735f09978ad7c5da804a00ed1ff6f37b45f4031b4973',
    ],
    archive: ['c33c828e0a4636dac83a585118df99c42e148d37699a4d1d595f9e4535652463'],
  },
  4: {
    disk: [
      'd67e048cbf50ab0f1ff4bdfc77fdc7b08e7aed6706a26f811032fc1b3b85262b',
      '9a1ad2ac2aca4ba6511cdc3a031ad14f02e53cd884d3fae2122d2005e5d7651a',
    ],
  },
  5: {
    files: [
      '22d5fa2cb7a2f19695f5ec64afb01e024cebd36dc20be7b114c96b9e3526bef5',
      'a84f99ff31bda4f4360dc7a93e0fb07c080909eaf4e8a9b3caf6066303c0b082',
    ],
    disk: [
      'd67e048cbf50ab0f1ff4bdfc77fdc7b08e7aed6706a26f811032fc1b3b85262b',
      '9a1ad2ac2aca4ba6511cdc3a031ad14f02e53cd884d3fae2122d2005e5d7651a',
      'b8ca8fb8893645c0182a593838b10c4927147f092b473911e9ffb56f7e7e03eb',
    ],
  },
};

interface InspectedStage {
  type: string;
  id: string;
  inputs?: Record<string, { references: Record<string, unknown> }>;
}
interface Inspected {
  pipelines: { name: string; stages: InspectedStage[] }[];
}

const example = (n: number) => join(DATA, `example-${n}.json`);
const exampleText = (n: number) => readFileSync(example(n), 'utf8');

function inspect(path: string): Inspected {
  const r = forge(['inspect', path]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as Inspected;
}

function ids(m: Inspected): Record<string, string[]> {
  return Object.fromEntries(m.pipelines.map((p) => [p.name, p.stages.map((s) => s.id)]));
}

/** Relative paths of everything below `dir`, directories with a trailing slash, sorted. */
function listTree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(`${rel}/`, ...listTree(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** What each example's exports hold, as the page shows them (the files, the tar, the images). */
const expectOutput = {
  1: (out) => {
    assert.deepEqual(readdirSync(out), ['tree']);
    assert.deepEqual(listTree(join(out, 'tree')), ['newfile']);
    const st = statSync(join(out, 'tree/newfile'));
    assert.ok(st.isFile());
    assert.equal(st.size, GiB);
    assert.equal(st.mode & 0o7777, 0o444);
  },
  2: (out) => {
    assert.deepEqual(listTree(join(out, 'res')), [
      'resources/',
      'resources/curl-file',
      'resources/inline-file',
    ]);
    const inline = readFileSync(join(out, 'res/resources/inline-file'));
    const curl = readFileSync(join(out, 'res/resources/curl-file'));
    assert.equal(sha256(inline), INLINE_SUM);
    assert.equal(sha256(curl), CURL_SUM);
    assert.deepEqual(inline, INLINE);
    assert.deepEqual(curl, CURL);
  },
  3: (out) => {
    assert.deepEqual(readdirSync(out).sort(), ['archive', 'files']);
    assert.deepEqual(listTree(join(out, 'archive')), ['archive.tar']);
    assert.deepEqual(listTree(join(out, 'files')), [
      'newfile',
      'resources/',
      'resources/curl-file',
      'resources/inline-file',
    ]);
    const tar = join(out, 'archive/archive.tar');
    const members = sh(['tar', '-tf', tar]).split('\n').filter(Boolean);
    assert.deepEqual(members.sort(), [
      './',
      './newfile',
      './resources/',
      './resources/curl-file',
      './resources/inline-file',
    ]);
    const verbose = new Map(
      sh(['tar', '--numeric-owner', '-tvf', tar])
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const f = l.split(/\s+/);
          return [f[5], { mode: f[0], owner: f[1], size: Number(f[2]) }];
        }),
    );
    assert.deepEqual(verbose.get('./newfile'), { mode: '-r--r--r--', owner: '0/0', size: GiB });
    assert.equal(sha256(sh(['tar', '-xOf', tar, './resources/curl-file'])), CURL_SUM);
    assert.equal(sha256(sh(['tar', '-xOf', tar, './resources/inline-file'])), INLINE_SUM);
  },
  4: (out) => {
    assert.deepEqual(listTree(join(out, 'disk')), ['disk.raw']);
    const image = join(out, 'disk/disk.raw');
    assert.equal(statSync(image).size, GiB);
    // `file` on the page: "Linux rev 1.0 ext4 filesystem data, UUID=90f06397-…"
    assert.match(sh(['file', image]), new RegExp(`ext4 filesystem data, UUID=${UUID}`));
    const header = sh(['dumpe2fs', '-h', image]);
    assert.match(header, new RegExp(`Filesystem UUID:\\s+${UUID}`));
    assert.match(header, /Block count:\s+262144\n/);
    assert.match(header, /Block size:\s+4096\n/);
    const [root] = debugfs(image, ['ls -l /']);
    assert.deepEqual(names(root ?? ''), ['.', '..', 'lost+found']);
  },
  5: (out) => {
    assert.deepEqual(listTree(join(out, 'disk')), ['disk.raw']);
    const image = join(out, 'disk/disk.raw');
    assert.equal(statSync(image).size, GiB);
    assert.match(sh(['dumpe2fs', '-h', image]), new RegExp(`Filesystem UUID:\\s+${UUID}`));
    const [root, resources, curl, inline] = debugfs(image, [
      'ls -l /',
      'ls -l /resources',
      'cat /resources/curl-file',
      'cat /resources/inline-file',
    ]);
    assert.deepEqual(names(root ?? ''), ['.', '..', 'lost+found', 'resources']);
    assert.deepEqual(names(resources ?? ''), ['.', '..', 'curl-file', 'inline-file']);
    assert.equal(sha256(curl ?? ''), CURL_SUM);
    assert.equal(sha256(inline ?? ''), INLINE_SUM);
  },
} satisfies Record<number, (out: string) => void>;

describe("OSBuild's docs/manifest.md examples", () => {
  it('are valid and have the ids the page prints', () => {
    const inspected = [1, 2, 3, 4, 5].map((n) => inspect(example(n)));
    inspected.forEach((m, i) => {
      assert.deepEqual(ids(m), IDS[i + 1], `example-${i + 1}`);
    });
    // `osbuild --inspect example-3.json`: the tar stage's tree input names the files pipeline by id.
    const tar = inspected[2]?.pipelines[1]?.stages[0];
    assert.deepEqual(tar?.inputs?.tree?.references, {
      '7a83e94e53883bb2e910735f09978ad7c5da804a00ed1ff6f37b45f4031b4973': {},
    });
  });

  it('rewriting the curl URL changes no id', () => {
    const dir = tempDir('forge-docs-ids-');
    try {
      for (const n of [2, 3, 5]) {
        const moved = writeJson(
          join(dir.path, `example-${n}.json`),
          JSON.parse(exampleText(n).replace(DOC_URL, 'http://127.0.0.1:1/elsewhere')),
        );
        assert.deepEqual(ids(inspect(moved)), IDS[n], `example-${n}`);
      }
    } finally {
      dir.cleanup();
    }
  });

  it("example 1 without truncate's size is invalid, as the page shows", () => {
    const dir = tempDir('forge-docs-invalid-');
    try {
      const m = JSON.parse(exampleText(1)) as {
        pipelines: { stages: { options: Record<string, unknown> }[] }[];
      };
      delete m.pipelines[0]?.stages[0]?.options.size;
      const path = writeJson(join(dir.path, 'example-1.json'), m);
      const r = forge(['validate', '--libdir', join(REPO, 'packages/stages/libdir'), path]);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /has errors:\n\n\.pipelines\[0\]\.stages\[0\]\.options:\n {2}'size' is a required property\n/,
      );
    } finally {
      dir.cleanup();
    }
  });
});

describe("OSBuild's docs/manifest.md examples, built", { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  let server: StaticServer;
  let store: string;
  const manifests: Record<number, string> = {};

  before(async () => {
    dir = tempDir('forge-docs-build-');
    libdir = testLibdir(dir.path);
    store = join(dir.path, 'store');
    server = await serveStatic({ '/curl-source-file.txt': CURL });
    for (const n of [1, 2, 3, 4, 5]) {
      const text = exampleText(n).replace(DOC_URL, `${server.url}/curl-source-file.txt`);
      manifests[n] = writeJson(join(dir.path, `example-${n}.json`), JSON.parse(text));
    }
  });
  after(async () => {
    await server?.close();
    if (dir) {
      releaseUnder(dir.path);
      dir.cleanup();
    }
  });

  /** `forge build` of example n with the given exports; asserts success and no leftovers. */
  async function build(n: number, exports: string[]): Promise<{ out: string; stdout: string }> {
    const out = join(dir.path, `output-${n}-${exports.join('-')}`);
    const r = await forgeAsync([
      'build',
      manifests[n] as string,
      '--libdir',
      libdir,
      '--store',
      store,
      '--rundir',
      join(dir.path, 'run'),
      ...exports.flatMap((e) => ['--export', e]),
      '--output-directory',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const [name, stages] of Object.entries(IDS[n] ?? {})) {
      if (r.stdout.includes(`Pipeline ${name}:`))
        assert.match(r.stdout, new RegExp(`Pipeline ${name}: ${stages[stages.length - 1]}`));
    }
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] }, 'loop devices or mounts left');
    return { out, stdout: r.stdout };
  }

  it('example 1: a read-only 1 GiB newfile', async () => {
    const { out } = await build(1, ['tree']);
    expectOutput[1](out);
  });

  it('example 2: the inline and the curl file, copied with their checksums', async () => {
    const { out } = await build(2, ['res']);
    expectOutput[2](out);
    // Both sources are in the store by checksum, as the page's script mimics.
    for (const sum of [INLINE_SUM, CURL_SUM]) {
      const file = join(store, 'sources/org.osbuild.files', `sha256:${sum}`);
      assert.equal(sha256(readFileSync(file)), sum);
    }
    assert.equal(server.hits.get('/curl-source-file.txt'), 1);
  });

  it('example 3: a tar of the files pipeline; exporting files alone runs no tar', async () => {
    const { out, stdout } = await build(3, ['files', 'archive']);
    assert.match(stdout, /org\.osbuild\.tar: c33c828e/);
    expectOutput[3](out);

    // "Partial manifest builds": exporting only files never runs the tar stage.
    const only = await build(3, ['files']);
    assert.match(only.stdout, /org\.osbuild\.copy: 7a83e94e/);
    assert.doesNotMatch(only.stdout, /org\.osbuild\.tar/);
    assert.deepEqual(readdirSync(only.out), ['files']);
  });

  it('example 4: a 1 GiB ext4 image with the given UUID, made through a loop device', async () => {
    const { out, stdout } = await build(4, ['disk']);
    assert.match(stdout, /\/dev\/loop\d+ acquired for \/disk\.raw/);
    expectOutput[4](out);
  });

  it('example 5: the files pipeline copied into the image through an ext4 mount', async () => {
    const { out, stdout } = await build(5, ['disk']);
    assert.match(stdout, /mounting \/dev\/loop\d+ -> /);
    expectOutput[5](out);
    // The curl file came from the store: one download for examples 2, 3 and 5.
    assert.equal(server.hits.get('/curl-source-file.txt'), 1);
  });
});

/** Entry names of a `debugfs ls -l` listing, sorted. */
function names(listing: string): string[] {
  return listing
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8)
    .map((f) => f.slice(8).join(' '))
    .sort();
}

const osbuild = osbuildCheckout('org.osbuild.mkfs.ext4');
const OSBUILD = osbuild.path;
const osbuildSkip = skip ?? osbuild.missing;
if (osbuildSkip && !skip) console.log(`# skipping the examples with OSBuild's modules: ${osbuildSkip}`);
const realSkip = osbuildSkip ?? osbuildUnavailable(OSBUILD as string);
if (realSkip && !osbuildSkip) console.log(`# skipping the comparison with real OSBuild: ${realSkip}`);

/** OSBuild's host modules the examples use; the engine's own modules of these names come first. */
const OSBUILD_MODULES = [
  'sources/org.osbuild.inline',
  'sources/org.osbuild.curl',
  'inputs/org.osbuild.files',
  'inputs/org.osbuild.tree',
  'devices/org.osbuild.loopback',
  'mounts/org.osbuild.ext4',
];
const alias = (type: string) => type.replace(/^org\.osbuild\./, 'org.forge.osbuild.');
const ALIASED = new Set(OSBUILD_MODULES.map((m) => m.split('/')[1] as string));

/**
 * A libdir holding OSBuild's own host modules under other names (org.forge.osbuild.*), so that
 * they, not the engine's modules of the same names, run; its osbuild/ is OSBuild's, which they
 * import. The code is OSBuild's, linked; only the schemas are rewritten for the new names.
 */
function osbuildModules(dir: string, osbuild: string): string {
  const libdir = join(dir, 'osbuild-modules');
  for (const module of OSBUILD_MODULES) {
    const [folder, type] = module.split('/') as [string, string];
    mkdirSync(join(libdir, folder), { recursive: true });
    symlinkSync(join(osbuild, module), join(libdir, folder, alias(type)));
    // The schema names the type it accepts (an input's `type` enum): the alias, here.
    const meta = readFileSync(join(osbuild, `${module}.meta.json`), 'utf8');
    writeFileSync(
      join(libdir, folder, `${alias(type)}.meta.json`),
      meta.replaceAll(`"${type}"`, `"${alias(type)}"`),
    );
  }
  symlinkSync(join(osbuild, 'osbuild'), join(libdir, 'osbuild'));
  return libdir;
}

/** The example with its sources, inputs, devices and mounts renamed to the aliases. */
function withAliases(manifest: Record<string, unknown>): Record<string, unknown> {
  const rename = (o: Record<string, { type: string }> | { type: string }[] | undefined) => {
    for (const m of Object.values(o ?? {})) if (ALIASED.has(m.type)) m.type = alias(m.type);
  };
  const pipelines = manifest.pipelines as { stages: Record<string, never>[] }[];
  for (const stage of pipelines.flatMap((p) => p.stages)) {
    rename(stage.inputs);
    rename(stage.devices);
    rename(stage.mounts);
  }
  const sources = (manifest.sources ?? {}) as Record<string, unknown>;
  manifest.sources = Object.fromEntries(
    Object.entries(sources).map(([type, items]) => [ALIASED.has(type) ? alias(type) : type, items]),
  );
  return manifest;
}

describe("OSBuild's docs/manifest.md examples with OSBuild's stages and host modules", {
  skip: osbuildSkip,
}, () => {
  let dir: ReturnType<typeof tempDir>;
  let server: StaticServer;
  let libdirs: string[];
  before(async () => {
    dir = tempDir('forge-docs-osbuild-');
    server = await serveStatic({ '/curl-source-file.txt': CURL });
    libdirs = [OSBUILD as string, osbuildModules(dir.path, OSBUILD as string)];
  });
  after(async () => {
    await server?.close();
    if (dir) {
      releaseUnder(dir.path);
      dir.cleanup();
    }
  });

  const exportsOf: Record<number, string[]> = {
    1: ['tree'],
    2: ['res'],
    3: ['files', 'archive'],
    4: ['disk'],
    5: ['disk'],
  };
  /** The example as both builds read it: the page's, with the URL of the test's server. */
  const served = (n: number) =>
    JSON.parse(exampleText(n).replace(DOC_URL, `${server.url}/curl-source-file.txt`));
  /** How forge's exports of example n are held against real OSBuild's (osbuild-run.fixture.ts). */
  const sameAs: Record<number, (forge: string, osbuild: string, scratch: string) => void> = {
    1: assertSameTree,
    2: assertSameTree,
    3: (forge, osbuild) => {
      assertSameTree(join(forge, 'files'), join(osbuild, 'files'));
      // No source epoch: each member's time is when its build made it.
      assertSameTar(join(forge, 'archive/archive.tar'), join(osbuild, 'archive/archive.tar'), false);
    },
    4: (forge, osbuild, scratch) =>
      assertSameExt4(join(forge, 'disk/disk.raw'), join(osbuild, 'disk/disk.raw'), scratch),
    5: (forge, osbuild, scratch) =>
      assertSameExt4(join(forge, 'disk/disk.raw'), join(osbuild, 'disk/disk.raw'), scratch),
  };
  for (const n of [1, 2, 3, 4, 5]) {
    it(`example ${n}: OSBuild's stages, and its sources, inputs, devices and mounts as host modules`, async () => {
      const manifest = writeJson(join(dir.path, `example-${n}.json`), withAliases(served(n)));
      const out = join(dir.path, `output-${n}`);
      const r = await forgeAsync([
        'build',
        manifest,
        ...libdirs.flatMap((l) => ['--libdir', l]),
        '--store',
        join(dir.path, 'store'),
        '--rundir',
        join(dir.path, 'run'),
        ...(exportsOf[n] ?? []).flatMap((e) => ['--export', e]),
        '--output-directory',
        out,
      ]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      // The aliased types are none of the engine's: only OSBuild's modules could have served them.
      expectOutput[n as keyof typeof expectOutput](out);
      assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] }, 'loop devices or mounts left');
    });
    it(`example ${n}: what real OSBuild builds of it`, { skip: realSkip }, async () => {
      const manifest = writeJson(join(dir.path, `osbuild-example-${n}.json`), served(n));
      const out = join(dir.path, `osbuild-output-${n}`);
      const r = await osbuildAsync(OSBUILD as string, manifest, {
        store: join(dir.path, 'osbuild-store'),
        out,
        exports: exportsOf[n] ?? [],
        scratch: join(dir.path, `osbuild-scratch-${n}`),
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      expectOutput[n as keyof typeof expectOutput](out);
      sameAs[n]?.(join(dir.path, `output-${n}`), out, join(dir.path, `compare-${n}`));
      assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] }, 'loop devices or mounts left');
    });
  }
});
