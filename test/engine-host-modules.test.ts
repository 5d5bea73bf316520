/**
 * Host modules of a libdir under `forge build`, as root with bubblewrap and the host's Python 3: a
 * source, an input, a device and a mount written here against OSBuild's service protocol as its
 * `osbuild/host.py` documents it (`EXE --service-id ID --service-fd FD`, `jsoncomm` datagrams over
 * a SOCK_SEQPACKET pair: `{type: method, data: {name, args}}` answered by `reply` or `exception`;
 * the end of the socket stops the module, which then releases what it holds), and the store API an
 * input is given. Checked: what each module was called with, what the stage got, the clean-up
 * after a failed stage and after the engine was killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBuildOutput } from '@debian-forge/engine';
import { FORGE, forge, LIBDIR, sandboxUnavailable, tempDir, writeJson } from './engine.fixture.ts';
import { releaseUnder, resourcesUnder } from './engine-host.fixture.ts';

const PYTHON = '/usr/bin/python3';
const skip =
  sandboxUnavailable() ?? (existsSync(PYTHON) ? undefined : `needs ${PYTHON} (the modules and the relays)`);
if (skip) console.log(`# skipping host module tests: ${skip}`);

/** A host service as OSBuild's protocol has it, without OSBuild's library: `serve(dispatch, stop)`. */
const SERVICE = `#!/usr/bin/python3
import argparse, json, os, signal, socket, sys, traceback

def serve(dispatch, stop=lambda: None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--service-id")
    parser.add_argument("--service-fd", type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=args.service_fd)
    record("argv", {"id": args.service_id, "fd": args.service_fd, "argv": sys.argv[1:]})
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                break
            msg = json.loads(data)
            try:
                name, margs = msg["data"]["name"], msg["data"]["args"]
                record(name, margs)
                reply = {"type": "reply", "data": {"reply": dispatch(name, margs)}}
            except Exception as e:
                reply = {"type": "exception", "data": {"name": type(e).__name__, "value": str(e), "backtrace": "".join(traceback.format_tb(e.__traceback__))}}
            sock.send(json.dumps(reply).encode())
    finally:
        stop()
        record("stopped", True)

def record(what, value):
    log = os.environ.get("FORGE_TEST_MODULE_LOG")
    if log:
        with open(log, "a", encoding="utf8") as f:
            f.write(json.dumps({"module": os.path.basename(sys.argv[0]), what: value}) + "\\n")

def store_call(path, msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(json.dumps(msg).encode())
    reply = json.loads(s.recv(1 << 20))
    s.close()
    return reply
`;

const MODULES: Record<string, string> = {
  // A source: items {checksum: {text}}, each checked and written to <cache>/org.osbuild.files.
  'sources/org.forge.test.words': `
import hashlib

def download(args):
    cache = os.path.join(args["cache"], "org.osbuild.files")
    os.makedirs(cache, exist_ok=True)
    results = []
    for checksum, desc in args["items"].items():
        path = os.path.join(cache, checksum)
        result = {"success": True, "metadata": {"checksum": checksum, "cached": os.path.exists(path)}, "error": ""}
        data = desc["text"].encode()
        if "sha256:" + hashlib.sha256(data).hexdigest() != checksum:
            result.update(success=False, error="checksum mismatch for " + checksum)
        elif not result["metadata"]["cached"]:
            with open(path, "wb") as f:
                f.write(data)
        results.append(result)
    return {"name": "source org.forge.test.words", "source_type": "org.forge.test.words", "success": all(r["success"] for r in results), "output": "", "results": results}

def dispatch(name, args):
    if name == "download":
        return download(args)
    raise ValueError("unknown method " + name)

serve(dispatch)
`,
  // An input: source files linked from the store API's source directory, or a pipeline's tree
  // mounted through read-tree-at; options.fail makes it raise.
  'inputs/org.forge.test.dir': `
def dispatch(name, args):
    if name != "map":
        raise ValueError("unknown method " + name)
    if args["options"].get("fail"):
        raise RuntimeError(args["options"]["fail"])
    store = args["api"]["store"]
    target = args["target"]
    if args["origin"] == "org.osbuild.source":
        files = store_call(store, {"method": "source", "name": "org.osbuild.files"})["path"]
        for ref in args["refs"]:
            os.link(os.path.join(files, ref), os.path.join(target, ref))
        return {"path": target, "data": {"files": {ref: {} for ref in args["refs"]}}}
    (pid,) = args["refs"].keys()
    tree = os.path.join(target, "tree")
    os.mkdir(tree)
    reply = store_call(store, {"method": "read-tree-at", "object-id": pid, "target": tree, "subtree": "/"})
    if reply.get("error") or not reply.get("path"):
        raise RuntimeError("read-tree-at: " + json.dumps(reply))
    return {"path": tree, "data": {"pipeline": pid}}

serve(dispatch)
`,
  // A device: a node of the host's /dev/null made in the stage's /dev, removed when stopped.
  'devices/org.forge.test.null': `
made = []

def dispatch(name, args):
    if name != "open":
        raise ValueError("unknown method " + name)
    st = os.stat("/dev/null")
    path = os.path.join(args["dev"], "forge-null")
    os.mknod(path, 0o20666, st.st_rdev)
    made.append(path)
    return {"path": "forge-null", "node": {"major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev)}}

def stop():
    for path in made:
        os.unlink(path)

serve(dispatch, stop)
`,
  // A mount: a tmpfs at root/target, unmounted when stopped, as OSBuild's file system mounts are.
  'mounts/org.forge.test.tmpfs': `
import subprocess
mounted = []

def dispatch(name, args):
    if name != "mount":
        raise ValueError("unknown method " + name)
    point = os.path.join(args["root"], args["target"].lstrip("/"))
    os.makedirs(point, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + args["options"]["size"], "forge-test", point], check=True)
    mounted.append(point)
    return point

def stop():
    for point in mounted:
        subprocess.run(["umount", "--lazy", point], check=True)

serve(dispatch, stop)
`,
};

/** A stage that reports what it got: its arguments, the input files, the device, the mount. */
const STAGE = `#!/usr/bin/python3
import json, os, time
with open("/run/osbuild/api/arguments", encoding="utf8") as f:
    args = json.load(f)
seen = {"inputs": args["inputs"], "devices": args["devices"], "mounts": args["mounts"], "files": {}}
for name, inp in args["inputs"].items():
    for root, _, files in os.walk(inp["path"]):
        for f in files:
            with open(os.path.join(root, f), encoding="utf8") as fh:
                seen["files"][os.path.relpath(os.path.join(root, f), inp["path"])] = fh.read()
for name, dev in args["devices"].items():
    with open(dev["path"], "w") as f:
        f.write("into the device")
for name, mnt in args["mounts"].items():
    with open(os.path.join(mnt["path"], "written"), "w") as f:
        f.write("into the mount")
    seen["mount-listing"] = os.listdir(mnt["path"])
with open(os.path.join(args["tree"], "seen.json"), "w", encoding="utf8") as f:
    json.dump(seen, f, sort_keys=True)
if args["options"].get("sleep"):
    print("sleeping", flush=True)
    time.sleep(args["options"]["sleep"])
if args["options"].get("fail"):
    raise SystemExit(3)
`;

/** `.meta.json` schemas as OSBuild's modules of each class write them. */
const SCHEMAS: Record<string, Record<string, unknown>> = {
  // The source's whole description: its items.
  sources: {
    schema: {
      additionalProperties: false,
      properties: {
        items: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['text'],
            properties: { text: { type: 'string' } },
          },
        },
      },
    },
  },
  // The input's whole object.
  inputs: { schema_2: { additionalProperties: true } },
  // The device's options.
  devices: { schema_2: { additionalProperties: false } },
  // The mount's whole object.
  mounts: {
    schema_2: {
      additionalProperties: false,
      required: ['name', 'type', 'target'],
      properties: {
        name: { type: 'string' },
        type: { type: 'string' },
        target: { type: 'string' },
        options: { type: 'object', required: ['size'], properties: { size: { type: 'string' } } },
      },
    },
  },
};

function hostModuleLibdir(dir: string): string {
  const libdir = join(dir, 'modlibdir');
  for (const folder of ['stages', 'sources', 'inputs', 'devices', 'mounts'])
    mkdirSync(join(libdir, folder), { recursive: true });
  for (const [path, body] of Object.entries(MODULES)) {
    const file = join(libdir, path);
    writeFileSync(file, SERVICE + body);
    chmodSync(file, 0o755);
    writeJson(`${file}.meta.json`, {
      summary: path,
      description: ['A host module of the forge tests.'],
      ...SCHEMAS[path.split('/')[0] as string],
    });
  }
  const stage = join(libdir, 'stages', 'org.forge.test.report');
  writeFileSync(stage, STAGE);
  chmodSync(stage, 0o755);
  writeJson(`${stage}.meta.json`, {
    summary: 'Reports what it got',
    description: ['A stage of the host module tests.'],
    schema_2: {
      options: { type: 'object' },
      inputs: { type: 'object' },
      devices: { type: 'object' },
      mounts: { type: 'array' },
    },
  });
  return libdir;
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function moduleLog(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('host modules of a libdir under forge build', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  let logFile: string;
  let child: ChildProcess | undefined;
  let n = 0;
  before(() => {
    dir = tempDir('forge-host-modules-');
    libdir = hostModuleLibdir(dir.path);
    logFile = join(dir.path, 'modules.log');
    process.env.FORGE_TEST_MODULE_LOG = logFile;
  });
  after(() => {
    delete process.env.FORGE_TEST_MODULE_LOG;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    releaseUnder(dir.path);
    dir.cleanup();
  });

  const hello = 'hello from a source module\n';
  const manifest = (report: Record<string, unknown>) => {
    n++;
    return writeJson(join(dir.path, `m${n}.json`), {
      version: '2',
      pipelines: [
        {
          name: 'base',
          stages: [
            {
              type: 'org.osbuild.mkdir',
              options: { paths: [{ path: '/from-base', mode: 0o755 }] },
            },
          ],
        },
        {
          name: 'report',
          stages: [
            {
              type: 'org.forge.test.report',
              options: report,
              inputs: {
                words: {
                  type: 'org.forge.test.dir',
                  origin: 'org.osbuild.source',
                  references: [sha256(hello)],
                  options: (report.input as Record<string, unknown>) ?? {},
                },
                base: {
                  type: 'org.forge.test.dir',
                  origin: 'org.osbuild.pipeline',
                  references: ['name:base'],
                },
              },
              devices: { null: { type: 'org.forge.test.null' } },
              mounts: [
                {
                  name: 'scratch',
                  type: 'org.forge.test.tmpfs',
                  target: '/scratch',
                  options: { size: '1m' },
                },
              ],
            },
          ],
        },
      ],
      sources: { 'org.forge.test.words': { items: { [sha256(hello)]: { text: hello } } } },
    });
  };
  const args = (m: string, out: string) => [
    'build',
    m,
    '--libdir',
    LIBDIR,
    '--libdir',
    libdir,
    '--store',
    join(dir.path, 'store'),
    '--rundir',
    join(dir.path, 'run'),
    '--export',
    'report',
    '--output-directory',
    out,
  ];

  it('runs a source, an input, a device and a mount as OSBuild runs them, and stops each', () => {
    writeFileSync(logFile, '');
    const out = join(dir.path, 'out');
    const r = forge([...args(manifest({}), out), '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'result', r.stdout);
    const seen = JSON.parse(readFileSync(join(out, 'report', 'seen.json'), 'utf8'));
    // The input from the source: the file the source module wrote, linked by the input module.
    assert.deepEqual(seen.inputs.words, {
      path: '/run/osbuild/inputs/words',
      data: { files: { [sha256(hello)]: {} } },
    });
    assert.equal(seen.files[sha256(hello)], hello);
    // The input from a pipeline: its tree, mounted by the store API, as the stage sees it.
    assert.equal(seen.inputs.base.path, '/run/osbuild/inputs/base/tree');
    assert.match(seen.inputs.base.data.pipeline, /^[0-9a-f]{64}$/);
    assert.deepEqual(seen.devices, { null: { path: '/dev/forge-null', node: { major: 1, minor: 3 } } });
    assert.deepEqual(seen.mounts, { scratch: { path: '/run/osbuild/mounts/scratch' } });
    assert.deepEqual(seen['mount-listing'], ['written']);

    const log = moduleLog(logFile);
    const calls = (module: string, what: string) =>
      log.filter((l) => l.module === module && what in l).map((l) => l[what]);
    // Each started as `EXE --service-id ID --service-fd FD`.
    assert.deepEqual(
      log.filter((l) => 'argv' in l).map((l) => (l.argv as { id: string }).id),
      ['source/org.forge.test.words', 'input/words', 'input/base', 'device/null', 'mount/scratch'],
    );
    for (const l of log.filter((x) => 'argv' in x)) {
      const a = l.argv as { fd: number; argv: string[] };
      assert.deepEqual(a.argv, ['--service-id', a.argv[1] as string, '--service-fd', String(a.fd)]);
    }
    const [download] = calls('org.forge.test.words', 'download') as Record<string, unknown>[];
    assert.deepEqual(Object.keys(download ?? {}).sort(), [
      'cache',
      'checksums',
      'items',
      'options',
      'output',
    ]);
    assert.equal(download?.cache, join(dir.path, 'store', 'sources'));
    const maps = calls('org.forge.test.dir', 'map') as Record<string, unknown>[];
    assert.deepEqual(Object.keys(maps[0] ?? {}).sort(), ['api', 'options', 'origin', 'refs', 'target']);
    assert.deepEqual(maps[0]?.refs, { [sha256(hello)]: {} });
    const [open] = calls('org.forge.test.null', 'open') as Record<string, unknown>[];
    assert.deepEqual(Object.keys(open ?? {}).sort(), ['dev', 'options', 'parent', 'tree']);
    assert.equal(open?.parent, null);
    const [mount] = calls('org.forge.test.tmpfs', 'mount') as Record<string, unknown>[];
    assert.deepEqual(mount?.target, '/scratch');
    assert.equal(mount?.source, null);
    // Every module was stopped (its socket closed): the source once it answered, then after the
    // stage the mount before the device, the inputs last; nothing is left mounted.
    assert.deepEqual(
      log.filter((l) => 'stopped' in l).map((l) => l.module),
      [
        'org.forge.test.words',
        'org.forge.test.tmpfs',
        'org.forge.test.null',
        'org.forge.test.dir',
        'org.forge.test.dir',
      ],
    );
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });

    // The next build finds the source's file cached, as the module reported it.
    const again = forge([...args(manifest({ again: true }), join(dir.path, 'out2')), '--json']);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    const second = readBuildOutput(again.stdout);
    assert.equal(second?.type, 'result');
    assert.deepEqual(second.sources['org.forge.test.words'], [{ cached: true, checksum: sha256(hello) }]);
  });

  it("makes an input module's exception the stage's error, and releases what the others hold", () => {
    writeFileSync(logFile, '');
    const r = forge([
      ...args(manifest({ input: { fail: 'no words today' } }), join(dir.path, 'out-fail')),
      '--json',
    ]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'error', r.stdout);
    const details = result.error.details;
    assert.ok('stage' in details, r.stdout);
    assert.match(details.stage.output, /input 'words': RuntimeError: no words today/);
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });

    // A failing stage: the device and the mount, opened, are released after it.
    writeFileSync(logFile, '');
    const f = forge([...args(manifest({ fail: true }), join(dir.path, 'out-fail2')), '--json']);
    assert.equal(f.status, 1, f.stdout);
    assert.equal(moduleLog(logFile).filter((l) => 'stopped' in l).length, 5);
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
  });

  it('leaves nothing mounted when the engine is killed with SIGKILL: the modules see their socket close', async () => {
    writeFileSync(logFile, '');
    child = spawn(process.execPath, [FORGE, ...args(manifest({ sleep: 600 }), join(dir.path, 'never'))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no sleeping stage: ${said}`)), 60_000);
      child?.once('exit', () => reject(new Error(`forge exited: ${said}`)));
      child?.stdout?.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (/^sleeping$/m.test(said)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const live = resourcesUnder(dir.path);
    assert.ok(
      live.mounts.some((m) => m.endsWith('/scratch')),
      JSON.stringify(live),
    );
    const exited = new Promise((done) => child?.once('exit', done));
    child.kill('SIGKILL');
    await exited;
    // The modules release what they hold on their own; the store API's tree mount and the stage's
    // /dev are the engine's, released by the next build.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && moduleLog(logFile).filter((l) => 'stopped' in l).length < 5)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      moduleLog(logFile).filter((l) => 'stopped' in l).length,
      5,
      JSON.stringify(moduleLog(logFile)),
    );
    assert.equal(
      resourcesUnder(dir.path).mounts.some((m) => m.endsWith('/scratch')),
      false,
    );
    const next = forge([...args(manifest({}), join(dir.path, 'out3')), '--json']);
    assert.equal(next.status, 0, next.stdout + next.stderr);
    assert.deepEqual(resourcesUnder(dir.path), { loops: [], mounts: [] });
  });
});
