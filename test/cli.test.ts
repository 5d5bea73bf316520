/**
 * The real `forge` command, spawned as a user runs it: exit codes, what it prints for good
 * manifests (byte for byte what `osbuild --inspect` of osbuild 191 printed) and for bad input (one
 * clear line on stderr, exit 2, never a stack trace).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const FORGE = resolve(import.meta.dirname, '../node_modules/.bin/forge');
const dir = mkdtempSync(join(tmpdir(), 'forge-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function forge(args: string[], stdin?: string | Buffer): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(FORGE, args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) =>
      done({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.end(stdin);
  });
}

/** Writes a file into the test's temporary directory and returns its path. */
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const CHECKSUM = 'sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
const MANIFEST = `{
  "version": "2",
  "pipelines": [
    {"name": "build", "runner": "org.osbuild.debian12", "stages": [{"type": "org.osbuild.noop"}]},
    {
      "name": "tree",
      "build": "name:build",
      "source-epoch": 1700000000,
      "stages": [
        {"type": "org.osbuild.mkdir", "options": {"paths": [{"path": "/etc/forge", "mode": 493}]}},
        {
          "type": "org.osbuild.copy",
          "inputs": {"file": {"type": "org.osbuild.files", "origin": "org.osbuild.source", "references": ["${CHECKSUM}"]}},
          "options": {"paths": [{"from": "input://file/${CHECKSUM}", "to": "tree:///etc/forge/h\\u00e9llo"}]}
        }
      ]
    },
    {
      "name": "archive",
      "build": "name:build",
      "stages": [{"type": "org.osbuild.tar", "inputs": {"tree": {"type": "org.osbuild.tree", "origin": "org.osbuild.pipeline", "references": ["name:tree"]}}, "options": {"filename": "hello.tar"}}]
    }
  ],
  "sources": {"org.osbuild.inline": {"items": {"${CHECKSUM}": {"encoding": "base64", "data": "aGVsbG8K"}}}}
}
`;
// What osbuild 191 --inspect printed for MANIFEST.
const OSBUILD_INSPECT = `{"version": "2", "pipelines": [{"name": "build", "runner": "org.osbuild.debian12", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "tree", "build": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969", "stages": [{"type": "org.osbuild.mkdir", "id": "2ee85833d97457900e42407b8eaf5a63c5af0d494a4e167b39fedc419d9865ac", "options": {"paths": [{"path": "/etc/forge", "mode": 493}]}}, {"type": "org.osbuild.copy", "id": "35dde13854cd0129cde8ada9acd9bde44578c71a36eefc55b7ae64adf0f45c9d", "options": {"paths": [{"from": "input://file/sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", "to": "tree:///etc/forge/h\\u00e9llo"}]}, "inputs": {"file": {"type": "org.osbuild.files", "origin": "org.osbuild.source", "references": {"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03": {}}}}}]}, {"name": "archive", "build": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969", "stages": [{"type": "org.osbuild.tar", "id": "ba3e6c6e53f2e86b2a64615d9dc6d5ae4ec3227e08b6b393ebee774066ae43fc", "options": {"filename": "hello.tar"}, "inputs": {"tree": {"type": "org.osbuild.tree", "origin": "org.osbuild.pipeline", "references": {"35dde13854cd0129cde8ada9acd9bde44578c71a36eefc55b7ae64adf0f45c9d": {}}}}}]}], "sources": {"org.osbuild.inline": {"items": {"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03": {"encoding": "base64", "data": "aGVsbG8K"}}}}}
`;

const INVALID = '{"version": "2", "foo": 1, "pipelines": [{"name": "a", "source-epoch": 1.0, "stages": []}]}';
// What osbuild 191 --inspect printed for INVALID (and exit code 2).
const OSBUILD_INVALID = `{"type": "https://osbuild.org/validation-error", "title": "JSON Schema validation failed", "success": false, "errors": [{"message": "Additional properties are not allowed ('foo' was unexpected)", "path": []}, {"message": "1.0 is not of type 'integer'", "path": ["pipelines", 0, "source-epoch"]}]}
`;

describe('forge with good and invalid manifests', { concurrency: true }, () => {
  it('inspect prints what osbuild --inspect prints and exits 0', async () => {
    const r = await forge(['inspect', file('good.json', MANIFEST)]);
    assert.deepEqual(r, { code: 0, stdout: OSBUILD_INSPECT, stderr: '' });
  });

  it('inspect reads the manifest from standard input with -', async () => {
    const r = await forge(['inspect', '-'], MANIFEST);
    assert.deepEqual(r, { code: 0, stdout: OSBUILD_INSPECT, stderr: '' });
  });

  it('inspect of an invalid manifest prints the validation result as osbuild does and exits 2', async () => {
    const r = await forge(['inspect', file('invalid-inspect.json', INVALID)]);
    assert.deepEqual(r, { code: 2, stdout: OSBUILD_INVALID, stderr: '' });
  });

  it('validate says a valid manifest is valid and exits 0', async () => {
    const path = file('valid.json', MANIFEST);
    assert.deepEqual(await forge(['validate', path]), { code: 0, stdout: `${path} is valid\n`, stderr: '' });
  });

  it('validate lists every error with its path and exits 2', async () => {
    const path = file('invalid.json', INVALID);
    const r = await forge(['validate', path]);
    const expected = [
      `${path} has errors:`,
      '',
      '.:',
      "  Additional properties are not allowed ('foo' was unexpected)",
      '',
      '.pipelines[0].source-epoch:',
      "  1.0 is not of type 'integer'",
      '',
      '',
    ].join('\n');
    assert.deepEqual(r, { code: 2, stdout: expected, stderr: '' });
  });

  it('validate --json prints the validation result as JSON', async () => {
    const r = await forge(['validate', '--json', file('invalid-json.json', INVALID)]);
    assert.deepEqual(r, { code: 2, stdout: OSBUILD_INVALID, stderr: '' });
  });
});

/** A valid manifest of about `bytes` bytes: MANIFEST's pipelines and a huge map of curl items. */
function bigManifest(bytes: number): string {
  const items: string[] = [];
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const item = `"sha256:${createHash('sha256').update(String(n)).digest('hex')}": "https://example.org/${n}"`;
    items.push(item);
    size += item.length + 2;
  }
  return `{"version": "2", "pipelines": [{"name": "a", "stages": [{"type": "org.osbuild.noop"}]}], "sources": {"org.osbuild.curl": {"items": {${items.join(', ')}}}}}`;
}

describe('forge with bad input', { concurrency: true }, () => {
  /** Runs forge, expecting exit 2, nothing on stdout and exactly `message` as one line on stderr. */
  async function refused(args: string[], message: string, stdin?: string | Buffer): Promise<void> {
    const r = await forge(args, stdin);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `${message}\n` });
  }

  it('refuses text that is not JSON', async () => {
    const message = 'not valid JSON: expecting value at line 1 column 1 (char 0) [FORGE_ERR_MANIFEST_JSON]';
    await refused(['inspect', file('not-json.json', 'not json')], `forge inspect: ${message}`);
    await refused(['validate', file('empty.json', '')], `forge validate: ${message}`);
  });

  it('refuses JSON that is not a version 2 manifest', async () => {
    await refused(
      ['inspect', file('array.json', '[]')],
      'forge inspect: a manifest must be a JSON object [FORGE_ERR_MANIFEST_FORMAT]',
    );
    const unsupported = (v: string) =>
      `forge validate: unsupported manifest format: version ${v}; only version '2' is supported [FORGE_ERR_MANIFEST_FORMAT]`;
    await refused(['validate', file('v1.json', '{"version": "1", "pipelines": []}')], unsupported("'1'"));
    await refused(['validate', file('v2-number.json', '{"version": 2, "pipelines": []}')], unsupported('2'));
  });

  it('refuses invalid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"version": "2", "pipelines": [{"name": "'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    await refused(
      ['inspect', file('latin.json', bytes)],
      'forge inspect: manifest is not valid UTF-8 text [FORGE_ERR_MANIFEST_JSON]',
    );
  });

  it('refuses nesting 100000 levels deep', async () => {
    const deep = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    const message =
      'manifest nests objects and arrays deeper than 1000 levels (at line 1 column 1001 (char 1000)) [FORGE_ERR_MANIFEST_TOO_DEEP]';
    await refused(['validate', '-'], `forge validate: ${message}`, deep);
  });

  it('refuses a blueprint named "." or "..", one of 100,000 characters, and one nested 10,000 deep, before apt runs', async () => {
    const refusedBlueprint = (name: string, content: string, message: string) =>
      refused(['manifest', '--type', 'tar', file(name, content)], `forge manifest: ${message}`);
    await refusedBlueprint(
      'dots.toml',
      'name = ".."\n',
      'invalid blueprint: .name: invalid blueprint name "..": "." and ".." cannot be names (they mean directories in paths) [FORGE_ERR_BLUEPRINT_INVALID]',
    );
    await refusedBlueprint(
      'dot.json',
      '{"name": "."}',
      'invalid blueprint: .name: invalid blueprint name ".": "." and ".." cannot be names (they mean directories in paths) [FORGE_ERR_BLUEPRINT_INVALID]',
    );
    await refusedBlueprint(
      'long.toml',
      `name = "${'b'.repeat(100_000)}"\n`,
      'invalid blueprint: .name: blueprint name too long: 100000 characters, at most 100 allowed [FORGE_ERR_BLUEPRINT_INVALID]',
    );
    await refusedBlueprint(
      'deep.json',
      `{"name": "deep", "customizations": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      'JSON document nests objects and arrays deeper than 1000 levels (at line 1 column 1035 (char 1034)) [FORGE_ERR_BLUEPRINT_SYNTAX]',
    );
  });

  it('refuses a missing file', async () => {
    const path = join(dir, 'missing.json');
    await refused(['inspect', path], `forge inspect: cannot read ${path}: ENOENT [FORGE_ERR_MANIFEST_JSON]`);
  });

  it('refuses a 50 MB manifest by default, and reads it with --max-size', async () => {
    const text = bigManifest(50 * 1024 * 1024);
    const path = file('big.json', text);
    const size = Buffer.byteLength(text);
    const tooLarge = `manifest is ${size} bytes, more than the limit of 16777216 bytes [FORGE_ERR_MANIFEST_TOO_LARGE]`;
    await refused(['validate', path], `forge validate: ${tooLarge}`);
    const r = await forge(['validate', '--max-size', '60000000', path]);
    assert.deepEqual(r, { code: 0, stdout: `${path} is valid\n`, stderr: '' });
  });
});

describe('forge usage', { concurrency: true }, () => {
  const noStack = (r: Run) => assert.doesNotMatch(r.stderr, /\n {4}at /);

  it('forge --help names every verb and global flag, and each verb --help every flag of the verb', async () => {
    const overview = await forge(['--help']);
    assert.equal(overview.code, 0);
    for (const word of ['--help', '--version', 'inspect', 'validate'])
      assert.ok(overview.stdout.includes(word), word);
    const flags: Record<string, string[]> = {
      inspect: ['-h, --help', '-l, --libdir DIR', '--max-size BYTES', 'MANIFEST'],
      validate: ['-h, --help', '-l, --libdir DIR', '--max-size BYTES', '--json', 'MANIFEST'],
    };
    const verbs = [...overview.stdout.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1] as string);
    assert.ok(verbs.includes('inspect') && verbs.includes('validate'), verbs.join(' '));
    for (const verb of verbs) {
      const r = await forge([verb, '--help']);
      assert.equal(r.code, 0, verb);
      assert.ok(r.stdout.startsWith(`usage: forge ${verb} `), verb);
      for (const name of flags[verb] ?? [])
        assert.ok(r.stdout.includes(name), `${verb} --help names ${name}`);
    }
  });

  it('refuses an unknown flag, a missing argument and an unknown verb with exit 2', async () => {
    const flag = await forge(['inspect', '--frobnicate', 'x.json']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^forge inspect: Unknown option '--frobnicate'/);
    assert.match(flag.stderr, /\nusage: forge inspect /);
    noStack(flag);
    const missing = await forge(['validate']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^forge validate: the MANIFEST argument is missing/);
    noStack(missing);
    const verb = await forge(['frobnicate']);
    assert.equal(verb.code, 2);
    assert.match(verb.stderr, /^forge: unknown verb 'frobnicate'\n/);
    const size = await forge(['validate', '--max-size', 'lots', '-'], MANIFEST);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /^forge validate: --max-size takes a positive number of bytes, not 'lots'\n/);
  });
});
