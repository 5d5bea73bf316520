/**
 * The stage side of OSBuild's API under `forge build`, as root with bubblewrap and the host's
 * Python 3: stages and a runner written here against the protocol as OSBuild documents it (the
 * arguments file, `jsoncomm` datagrams on /run/osbuild/api/osbuild and remoteloop, the meta file),
 * with what `--json` and the JSONSeqMonitor report compared to what OSBuild reports
 * (OSBUILD-CONTRACT.md, sections 2 and 5). With FORGE_OSBUILD_SOURCE naming a checkout of
 * OSBuild's sources, its own Python mkdir, copy, tar and xz stages build a manifest from that
 * libdir, whose archive is held against the one real OSBuild of that checkout builds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBuildOutput } from '@debian-forge/engine';
import { forge, LIBDIR, osbuildCheckout, sandboxUnavailable, tempDir, writeJson } from './engine.fixture.ts';
import { releaseUnder, resourcesUnder } from './engine-host.fixture.ts';
import { assertSameTar, osbuildAsync, osbuildUnavailable } from './osbuild-run.fixture.ts';

const PYTHON = '/usr/bin/python3';
const skip =
  sandboxUnavailable() ?? (existsSync(PYTHON) ? undefined : `needs ${PYTHON} (stages and the API relay)`);
if (skip) console.log(`# skipping OSBuild API tests: ${skip}`);

/** What every test stage shares: a jsoncomm client as OSBuild's `osbuild.util.jsoncomm` speaks it. */
const CLIENT = `#!/usr/bin/python3
import array, json, os, socket, sys, traceback

def arguments():
    with open("/run/osbuild/api/arguments", encoding="utf8") as f:
        return json.load(f)

def client(endpoint):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind("")
    s.connect("/run/osbuild/api/" + endpoint)
    return s

def send(s, msg, fds=()):
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    s.sendmsg([json.dumps(msg).encode()], anc)

def recv(s):
    return json.loads(s.recvmsg(65536)[0])

def exception_and_die(e):
    traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
    tb = "".join(traceback.format_tb(e.__traceback__))
    with client("osbuild") as s:
        send(s, {"method": "exception", "exception": {"type": type(e).__name__, "value": str(e), "traceback": tb}})
    sys.exit(2)
`;

const STAGES: Record<string, string> = {
  // Raises inside the exception handler: the message over the socket, then exit 2.
  'org.forge.test.py-raise': `
def main(options):
    raise ValueError(options["message"])

try:
    main(arguments()["options"])
except Exception as e:
    exception_and_die(e)
`,
  // Metadata as OSBuild 191 writes it (the meta file), then as older versions sent it (add-metadata
  // with a descriptor holding the JSON), which is merged.
  'org.forge.test.py-metadata': `
import tempfile
args = arguments()
with open("/run/osbuild/meta", "w", encoding="utf8") as f:
    json.dump({"written": args["options"]["value"], "id": args["meta"]["id"], "runner": os.environ.get("RUNNER_DID"), "passwd": os.path.exists("/etc/passwd")}, f)
with tempfile.TemporaryFile() as f:
    f.write(json.dumps({"sent": [1, 2, 3]}).encode())
    f.flush()
    with client("osbuild") as s:
        send(s, {"method": "add-metadata", "metadata": 0}, [f.fileno()])
`,
  // Asks remoteloop for a loop device over a slice of a file of the tree, writes a pattern through
  // the node it got in its /dev and reports the node; a file the host cannot reach (the sandbox's
  // /tmp) is refused with an exception.
  'org.forge.test.py-loop': `
import stat
args = arguments()
tree = args["tree"]
path = os.path.join(tree, "disk.img")
with open(path, "wb") as f:
    f.truncate(4 << 20)
def loop(filename):
    fd = os.open(filename, os.O_RDWR)
    dir_fd = os.open("/dev", os.O_DIRECTORY)
    with client("remoteloop") as s:
        send(s, {"fd": 0, "dir_fd": 1, "offset": 1 << 20, "sizelimit": 1 << 20, "read_only": False, "partscan": False, "lock": False, "sector_size": 512}, [fd, dir_fd])
        reply = recv(s)
    os.close(fd)
    os.close(dir_fd)
    return reply
reply = loop(path)
dev = "/dev/" + reply["devname"]
st = os.stat(dev)
assert stat.S_ISBLK(st.st_mode), dev
with open("/sys/dev/block/%d:%d/loop/offset" % (os.major(st.st_rdev), os.minor(st.st_rdev))) as f:
    offset = int(f.read())
with open("/sys/dev/block/%d:%d/size" % (os.major(st.st_rdev), os.minor(st.st_rdev))) as f:
    sectors = int(f.read())
fd = os.open(dev, os.O_RDWR)
os.write(fd, b"written through " + reply["devname"].encode())
os.fsync(fd)
os.close(fd)
os.unlink(dev)
with open("/tmp/elsewhere", "wb") as f:
    f.truncate(1 << 20)
refused = loop("/tmp/elsewhere")
with open("/run/osbuild/meta", "w", encoding="utf8") as f:
    json.dump({"devname": reply["devname"], "offset": offset, "sectors": sectors, "refused": refused}, f)
`,
};

/** A runner as OSBuild's (`osbuild.util.runners`): ldconfig, sysusers, tmpfiles, nsswitch, then the stage. */
const RUNNER = `${CLIENT}
import subprocess
try:
    subprocess.run(["touch", "/etc/ld.so.conf"], check=True)
    subprocess.run(["ldconfig"], check=True)
    subprocess.run(["systemd-sysusers"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True)
    subprocess.run(["systemd-tmpfiles", "--create"], check=False, stderr=subprocess.DEVNULL)
    try:
        os.remove("/etc/nsswitch.conf")
    except FileNotFoundError:
        pass
    os.makedirs("/etc/alternatives", exist_ok=True)
    r = subprocess.run(sys.argv[1:], check=False, env={**os.environ, "RUNNER_DID": "ldconfig sysusers tmpfiles nsswitch"})
    sys.exit(r.returncode)
except Exception as e:
    exception_and_die(e)
`;

function pythonLibdir(dir: string): string {
  const libdir = join(dir, 'pylibdir');
  mkdirSync(join(libdir, 'stages'), { recursive: true });
  mkdirSync(join(libdir, 'runners'), { recursive: true });
  for (const [type, body] of Object.entries(STAGES)) {
    const path = join(libdir, 'stages', type);
    writeFileSync(path, CLIENT + body);
    chmodSync(path, 0o755);
    writeJson(`${path}.meta.json`, {
      summary: type,
      description: ['A Python stage of the OSBuild API tests.'],
      schema_2: { options: { type: 'object', additionalProperties: true } },
    });
  }
  const runner = join(libdir, 'runners', 'org.osbuild.linux');
  writeFileSync(runner, RUNNER);
  chmodSync(runner, 0o755);
  for (const name of ['org.osbuild.debian', 'org.osbuild.debian12', 'org.osbuild.debian13'])
    symlinkSync('org.osbuild.linux', join(libdir, 'runners', name));
  return libdir;
}

/** `forge build --json` of one export into `out`, from `libdirs` in order; it must succeed. */
function buildOk(manifest: string, libdirs: string[], store: string, pipeline: string, out: string) {
  const r = forge([
    'build',
    manifest,
    ...libdirs.flatMap((l) => ['--libdir', l]),
    '--store',
    store,
    '--export',
    pipeline,
    '--output-directory',
    out,
    '--json',
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const result = readBuildOutput(r.stdout);
  assert.equal(result?.type, 'result', r.stdout);
  return result;
}

/** The records of a JSONSeqMonitor stream (RFC 7464). */
function records(stream: string): Record<string, unknown>[] {
  return stream
    .split('\x1e')
    .filter((r) => r.trim())
    .map((r) => JSON.parse(r.split('\n')[0] as string) as Record<string, unknown>);
}

describe('OSBuild API of a stage under forge build', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  let n = 0;
  const build = (pipeline: string, stages: unknown[], extra: string[] = []) => {
    n++;
    const manifest = writeJson(join(dir.path, `m${n}.json`), {
      version: '2',
      pipelines: [{ name: pipeline, stages }],
    });
    return forge([
      'build',
      manifest,
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store'),
      '--export',
      pipeline,
      '--output-directory',
      join(dir.path, `out${n}`),
      ...extra,
    ]);
  };
  before(() => {
    dir = tempDir('forge-osbuild-api-');
    libdir = pythonLibdir(dir.path);
  });
  after(() => dir.cleanup());

  it("turns an exception message into the stage's error, in --json and in the monitor", () => {
    const stage = { type: 'org.forge.test.py-raise', options: { message: 'the tree is not right' } };
    let r = build('raise', [stage], ['--json']);
    assert.equal(r.status, 1, r.stderr);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'error', r.stdout);
    assert.equal(result.error.type, 'org.osbuild.error.stage');
    const failed = result.error.details.stage;
    assert.equal(failed.type, 'org.forge.test.py-raise');
    // OSBuild's API: {"type": "exception", "data": <the message's exception>}.
    const error = failed.error as { type: string; data: { type: string; value: string; traceback: string } };
    assert.deepEqual(Object.keys(error).sort(), ['data', 'type']);
    assert.equal(error.type, 'exception');
    assert.deepEqual(Object.keys(error.data).sort(), ['traceback', 'type', 'value']);
    assert.equal(error.data.type, 'ValueError');
    assert.equal(error.data.value, 'the tree is not right');
    assert.match(error.data.traceback, /in main\n {4}raise ValueError/);
    // The traceback is printed too, so it is in the stage's output.
    assert.match(failed.output, /ValueError: the tree is not right/);
    assert.deepEqual(result.log.raise?.[0]?.error, error);
    assert.equal(result.log.raise?.[0]?.success, false);

    r = build('raise', [stage], ['--monitor', 'JSONSeqMonitor']);
    assert.equal(r.status, 1);
    const finished = records(r.stdout).find((x) => x.message === 'Finished module org.forge.test.py-raise');
    assert.ok(finished, r.stdout);
    assert.deepEqual((finished.result as { error: unknown }).error, error);
    // A failed stage leaves no /dev mounted either.
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
  });

  it("keeps a stage's metadata from the meta file and from add-metadata, in --json and the monitor", () => {
    const stage = { type: 'org.forge.test.py-metadata', options: { value: 'forty-two' } };
    const r = build('meta', [stage], ['--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'result', r.stdout);
    const md = result.metadata.meta?.['org.forge.test.py-metadata'] as Record<string, unknown>;
    assert.equal(md.written, 'forty-two');
    assert.deepEqual(md.sent, [1, 2, 3]);
    assert.match(String(md.id), /^[0-9a-f]{64}$/);

    const again = build(
      'meta2',
      [{ ...stage, options: { value: 'seven' } }],
      ['--monitor', 'JSONSeqMonitor'],
    );
    assert.equal(again.status, 0, again.stdout);
    const finished = records(again.stdout).find(
      (x) => x.message === 'Finished module org.forge.test.py-metadata',
    );
    assert.ok(finished, again.stdout);
    const metadata = finished.metadata as Record<string, unknown>;
    assert.deepEqual(metadata.sent, [1, 2, 3]);
    assert.equal(metadata.written, 'seven');
  });

  it("runs a runner as OSBuild's: ldconfig replaces the library cache, sysusers writes /etc", () => {
    // The runner stops the build with an exception if ldconfig or systemd-sysusers fail.
    const r = build('runner', [{ type: 'org.forge.test.py-metadata', options: { value: 'x' } }], ['--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'result', r.stdout);
    const md = result.metadata.runner?.['org.forge.test.py-metadata'] as Record<string, unknown>;
    assert.equal(md.runner, 'ldconfig sysusers tmpfiles nsswitch');
    assert.equal(md.passwd, true);
  });

  it('gives a stage a loop device through remoteloop, and releases it when the stage ends', () => {
    const r = build('loop', [{ type: 'org.forge.test.py-loop' }], ['--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'result', r.stdout);
    const md = result.metadata.loop?.['org.forge.test.py-loop'] as {
      devname: string;
      offset: number;
      sectors: number;
      refused: { method: string; exception: { value: string } };
    };
    assert.match(md.devname, /^loop\d+$/);
    assert.equal(md.offset, 1 << 20);
    assert.equal(md.sectors, (1 << 20) / 512);
    assert.equal(md.refused.method, 'exception');
    assert.match(md.refused.exception.value, /\/tmp\/elsewhere is not in \/run\/osbuild\/tree/);
    const image = readFileSync(join(dir.path, `out${n}`, 'loop', 'disk.img'));
    assert.equal(image.length, 4 << 20);
    // What the stage wrote at the device's start is 1 MiB into the file, and nothing before it.
    const written = Buffer.from(`written through ${md.devname}`);
    assert.deepEqual(image.subarray(1 << 20, (1 << 20) + written.length), written);
    assert.ok(image.subarray(0, 1 << 20).every((b) => b === 0));
    // Neither the loop device nor the stage's /dev is left.
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
  });
});

describe('forge build, validate and inspect with --libdir given twice', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let second: string;
  before(() => {
    dir = tempDir('forge-libdirs-');
    second = pythonLibdir(dir.path);
    // A stage that imports a module of its own libdir (OSBuild's stages import its osbuild/ so),
    // with a schema that wants a word.
    writeFileSync(join(second, 'forgelib.py'), 'WHERE = "the second libdir"\n');
    const stage = join(second, 'stages', 'org.forge.test.py-lib');
    writeFileSync(
      stage,
      `${CLIENT}
import forgelib
args = arguments()
tree = args["tree"]
with open(os.path.join(tree, "forge", "word"), "w", encoding="utf8") as f:
    f.write(args["options"]["word"])
with open("/run/osbuild/meta", "w", encoding="utf8") as f:
    json.dump({"lib": forgelib.WHERE, "runner": os.environ.get("RUNNER_DID"), "mkdir": sorted(os.listdir(tree))}, f)
`,
    );
    chmodSync(stage, 0o755);
    writeJson(`${stage}.meta.json`, {
      summary: 'Writes a word into /forge',
      description: ['A Python stage of the libdir layering test.'],
      schema_2: {
        options: {
          type: 'object',
          additionalProperties: false,
          required: ['word'],
          properties: { word: { type: 'string' } },
        },
      },
    });
    // The second libdir's own mkdir fails: forge's, in the first libdir, is the one that runs.
    const mkdir = join(second, 'stages', 'org.osbuild.mkdir');
    writeFileSync(mkdir, '#!/bin/sh\necho "the second libdir\'s mkdir ran" >&2\nexit 1\n');
    chmodSync(mkdir, 0o755);
    writeJson(`${mkdir}.meta.json`, {
      summary: 'A mkdir that is never taken',
      description: ['Shadowed by the first libdir.'],
      schema_2: { options: { type: 'object', required: ['never'] } },
    });
  });
  after(() => dir.cleanup());

  const manifest = (word: unknown) =>
    writeJson(join(dir.path, `m-${typeof word}.json`), {
      version: '2',
      pipelines: [
        {
          name: 'tree',
          stages: [
            { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/forge', mode: 0o755 }] } },
            { type: 'org.forge.test.py-lib', options: { word } },
          ],
        },
      ],
    });
  const libdirs = () => ['--libdir', LIBDIR, '--libdir', second];

  it("takes each stage from the first libdir that has it, with its libdir's lib and runner", () => {
    const out = join(dir.path, 'out');
    const result = buildOk(manifest('layered'), [LIBDIR, second], join(dir.path, 'store'), 'tree', out);
    assert.deepEqual(result.metadata.tree?.['org.forge.test.py-lib'], {
      lib: 'the second libdir',
      runner: 'ldconfig sysusers tmpfiles nsswitch',
      mkdir: ['forge'],
    });
    assert.equal(readFileSync(join(out, 'tree', 'forge', 'word'), 'utf8'), 'layered');
  });

  it('validates each stage against the schema of the libdir it is taken from', () => {
    const good = forge(['validate', manifest('layered'), ...libdirs()]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const bad = forge(['validate', '--json', manifest(7), ...libdirs()]);
    assert.equal(bad.status, 2, bad.stdout);
    const errors = (JSON.parse(bad.stdout) as { errors: { message: string; path: unknown[] }[] }).errors;
    assert.deepEqual(
      errors.map((e) => e.path),
      [['pipelines', 0, 'stages', 1, 'options', 'word']],
    );
    // Forge's libdir alone does not know the Python stage.
    const alone = forge(['validate', '--json', manifest('layered'), '--libdir', LIBDIR]);
    assert.equal(alone.status, 2);
    assert.match(alone.stdout, /could not find schema information for 'org\.forge\.test\.py-lib'/);
    const inspect = forge(['inspect', manifest('layered'), ...libdirs()]);
    assert.equal(inspect.status, 0, inspect.stdout + inspect.stderr);
    assert.match(inspect.stdout, /"org\.forge\.test\.py-lib"/);
    const missing = forge(['inspect', manifest('layered'), ...libdirs(), '--libdir', join(dir.path, 'none')]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /--libdir .*none: not a directory/);
  });
});

const osbuild = osbuildCheckout('org.osbuild.tar');
const OSBUILD = osbuild.path;
const osbuildSkip = skip ?? osbuild.missing;
if (osbuildSkip && !skip) console.log(`# skipping the build with OSBuild's stages: ${osbuildSkip}`);
const realSkip = osbuildSkip ?? osbuildUnavailable(OSBUILD as string);
if (realSkip && !osbuildSkip) console.log(`# skipping the comparison with real OSBuild: ${realSkip}`);

/** A tree made by mkdir and copy (`hello` from an inline source) and its tar, then `more` pipelines. */
function helloTar(hello: Buffer, more: unknown[] = []) {
  const sum = `sha256:${createHash('sha256').update(hello).digest('hex')}`;
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        'source-epoch': 1700000000,
        stages: [
          {
            type: 'org.osbuild.mkdir',
            options: { paths: [{ path: '/etc/forge', mode: 0o755, parents: true }] },
          },
          {
            type: 'org.osbuild.copy',
            inputs: { src: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [sum] } },
            options: { paths: [{ from: `input://src/${sum}`, to: 'tree:///etc/forge/hello' }] },
          },
        ],
      },
      {
        name: 'tar',
        'source-epoch': 1700000000,
        stages: [
          {
            type: 'org.osbuild.tar',
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:tree'] },
            },
            options: { filename: 'root.tar' },
          },
        ],
      },
      ...more,
    ],
    sources: {
      'org.osbuild.inline': { items: { [sum]: { encoding: 'base64', data: hello.toString('base64') } } },
    },
  };
}

describe("OSBuild's own Python stages under forge build --libdir", { skip: osbuildSkip }, () => {
  let dir: ReturnType<typeof tempDir>;
  before(() => {
    dir = tempDir('forge-osbuild-libdir-');
  });
  after(() => {
    // A failed OSBuild run can leave its read-only mounts in its store.
    releaseUnder(dir.path);
    dir.cleanup();
  });

  /** Real OSBuild's build of `manifest`, its `exports` written to `out`; it must succeed. */
  async function osbuildOk(manifest: string, exports: string[], out: string) {
    const r = await osbuildAsync(OSBUILD as string, manifest, {
      store: join(dir.path, 'osbuild-store'),
      out,
      exports,
      scratch: join(dir.path, 'osbuild-scratch'),
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
  }

  it("builds a tree with mkdir and copy and packs it with tar, through OSBuild's runner", () => {
    const manifest = writeJson(join(dir.path, 'manifest.json'), helloTar(Buffer.from('hello\n')));
    const out = join(dir.path, 'out');
    const result = buildOk(manifest, [OSBUILD as string], join(dir.path, 'store'), 'tar', out);
    assert.match(result.log.tree?.[1]?.output ?? '', /copying '\/run\/osbuild\/inputs\/src\/sha256:/);
    const list = spawnSync(
      'tar',
      ['--list', '--verbose', '--numeric-owner', '--file', join(out, 'tar', 'root.tar')],
      {
        encoding: 'utf8',
      },
    );
    const entries = list.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/));
    assert.deepEqual(
      entries.map((e) => [e[0], e[1], e[5]]),
      [
        ['drwxr-xr-x', '0/0', './'],
        ['drwxr-xr-x', '0/0', './etc/'],
        ['drwxr-xr-x', '0/0', './etc/forge/'],
        ['-rw-r--r--', '0/0', './etc/forge/hello'],
      ],
    );
  });
  it('packs the same archive as real OSBuild does', { skip: realSkip }, async () => {
    const out = join(dir.path, 'osbuild-out');
    await osbuildOk(join(dir.path, 'manifest.json'), ['tar'], out);
    // The source epoch clamps every time in the tree, so the listing's times are the same too.
    assertSameTar(join(dir.path, 'out', 'tar', 'root.tar'), join(out, 'tar', 'root.tar'));
  });

  const hello = Buffer.from('hello from both libdirs\n');
  /** The archive of the xz export in `out`, decompressed beside it. */
  const unxz = (out: string) => {
    spawnSync('xz', ['--decompress', '--keep', '--force', join(out, 'xz', 'root.tar.xz')]);
    return join(out, 'xz', 'root.tar');
  };
  it('builds mkdir, copy, tar and xz with --libdir given twice, either libdir first, to the same archive', () => {
    const xz = {
      name: 'xz',
      stages: [
        {
          type: 'org.osbuild.xz',
          inputs: {
            file: {
              type: 'org.osbuild.files',
              origin: 'org.osbuild.pipeline',
              references: { 'name:tar': { file: '/root.tar' } },
            },
          },
          options: { filename: 'root.tar.xz' },
        },
      ],
    };
    const manifest = writeJson(join(dir.path, 'xz.json'), helloTar(hello, [xz]));
    const archive = (libdirs: string[], name: string) => {
      const out = join(dir.path, name);
      buildOk(manifest, libdirs, join(dir.path, `store-${name}`), 'xz', out);
      const tar = unxz(out);
      const listing = spawnSync(
        'tar',
        ['--list', '--verbose', '--numeric-owner', '--full-time', '--file', tar],
        {
          encoding: 'utf8',
        },
      );
      const content = spawnSync('tar', ['-xOf', tar, './etc/forge/hello']).stdout;
      return { listing: listing.stdout, content };
    };
    // Forge's libdir first: forge's four stages; OSBuild's first: its Python ones (which libdir a
    // stage comes from is shown by the layering test above).
    const forgeFirst = archive([LIBDIR, OSBUILD as string], 'forge-first');
    const osbuildFirst = archive([OSBUILD as string, LIBDIR], 'osbuild-first');
    assert.deepEqual(osbuildFirst.content, hello);
    assert.deepEqual(forgeFirst.content, hello);
    assert.equal(osbuildFirst.listing, forgeFirst.listing);
  });
  it('compresses, either libdir first, the same archive as real OSBuild does', {
    skip: realSkip,
  }, async () => {
    const out = join(dir.path, 'osbuild-xz');
    await osbuildOk(join(dir.path, 'xz.json'), ['xz'], out);
    const real = unxz(out);
    // xz's output is not compared: what it compresses differs (assertSameTar says where).
    for (const name of ['osbuild-first', 'forge-first'])
      assertSameTar(join(dir.path, name, 'xz', 'root.tar'), real);
  });
});
