/**
 * Bad manifests: every problem comes back at once, each as a validation error with OSBuild's
 * message and JSON path. Where OSBuild 191 reports a validation error, the message is the one it
 * printed; where it stops loading with a Python exception (a device cycle, an unknown reference, a
 * duplicate name), the message is that exception's text and the path is where the problem is.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  detectFormat,
  LibdirIndex,
  type LoadOptions,
  loadManifest,
  ManifestError,
  ManifestErrorCode,
  ManifestValidationError,
  parseManifestText,
  pathId,
  type ValidationError,
  validateManifest,
} from './index.ts';

function errors(manifest: unknown, options?: LoadOptions): ValidationError[] {
  const text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  return validateManifest(parseManifestText(text), options).errors;
}

const noop = (extra: object = {}) => ({ type: 'org.osbuild.noop', ...extra });
const pipelineInput = (references: unknown) => ({
  inputs: { t: { type: 'org.osbuild.noop', origin: 'org.osbuild.pipeline', references } },
});
const luks = (parent?: string) => ({
  type: 'org.osbuild.luks2',
  ...(parent ? { parent } : {}),
  options: { passphrase: 'x' },
});
const STAGE0: (string | number)[] = ['pipelines', 0, 'stages', 0];

describe('schema errors', () => {
  it('refuses an unknown top-level key at path []', () => {
    assert.deepEqual(errors({ version: '2', pipelines: [], foo: 1 }), [
      { message: "Additional properties are not allowed ('foo' was unexpected)", path: [] },
    ]);
  });

  it('lists several unknown keys sorted, as Python does', () => {
    const m = {
      version: '2',
      zz: 1,
      pipelines: [{ name: 'a', stages: [noop({ zeta: 1, alpha: 2 })] }],
      aa: 2,
    };
    assert.deepEqual(errors(m), [
      { message: "Additional properties are not allowed ('aa', 'zz' were unexpected)", path: [] },
      { message: "Additional properties are not allowed ('alpha', 'zeta' were unexpected)", path: STAGE0 },
    ]);
  });

  it('refuses a source-epoch written as a float, as Python jsonschema does', () => {
    const epoch = (v: string) =>
      errors(`{"version": "2", "pipelines": [{"name": "a", "source-epoch": ${v}, "stages": []}]}`);
    const at = ['pipelines', 0, 'source-epoch'];
    assert.deepEqual(epoch('1.0'), [{ message: "1.0 is not of type 'integer'", path: at }]);
    assert.deepEqual(epoch('17e8'), [{ message: "1700000000.0 is not of type 'integer'", path: at }]);
    assert.deepEqual(epoch('1e400'), [{ message: "inf is not of type 'integer'", path: at }]);
    assert.deepEqual(epoch('1.5'), [{ message: "1.5 is not of type 'integer'", path: at }]);
    assert.deepEqual(epoch('true'), [{ message: "True is not of type 'integer'", path: at }]);
    assert.deepEqual(epoch('1700000000'), []);
  });

  it('reports three problems as three errors', () => {
    const m = `{"version": "2", "foo": 1, "pipelines": [{"name": "p", "source-epoch": "x",
      "stages": [{"type": "org.osbuild.noop", "options": 1.0}]}]}`;
    assert.deepEqual(errors(m), [
      { message: "Additional properties are not allowed ('foo' was unexpected)", path: [] },
      { message: "'x' is not of type 'integer'", path: ['pipelines', 0, 'source-epoch'] },
      { message: "1.0 is not of type 'object'", path: [...STAGE0, 'options'] },
    ]);
  });

  it('throws all of them from loadManifest', () => {
    const desc = parseManifestText('{"version": "2", "a": 1, "b": 2, "pipelines": {}}');
    assert.throws(
      () => loadManifest(desc),
      (err: unknown) =>
        err instanceof ManifestValidationError &&
        err.code === ManifestErrorCode.Invalid &&
        err.result.size === 2 &&
        err.message ===
          "manifest has 2 validation error(s), first: Additional properties are not allowed ('a', 'b' were unexpected)",
    );
  });
});

describe('loading errors', () => {
  it('refuses a repeated pipeline name', () => {
    const m = { version: '2', pipelines: [{ name: 'a', stages: [noop()] }, { name: 'a' }] };
    assert.deepEqual(errors(m), [{ message: 'Name a already exists', path: ['pipelines', 1, 'name'] }]);
  });

  it('refuses unknown name: references, in inputs and in build (pipelines are resolved in order)', () => {
    const m = {
      version: '2',
      pipelines: [
        { name: 'a', build: 'name:later', stages: [noop(pipelineInput(['name:nope']))] },
        { name: 'later' },
      ],
    };
    assert.deepEqual(errors(m), [
      { message: 'Unknown pipeline reference: name:later', path: ['pipelines', 0, 'build'] },
      { message: 'Unknown pipeline reference: name:nope', path: [...STAGE0, 'inputs', 't', 'references'] },
    ]);
  });

  it('refuses unknown source references, named as a Python set', () => {
    const input = {
      type: 'org.osbuild.noop',
      origin: 'org.osbuild.source',
      references: ['sha256:bbbb', 'sha256:bbbb'],
    };
    const m = { version: '2', pipelines: [{ name: 'a', stages: [noop({ inputs: { f: input } })] }] };
    assert.deepEqual(errors(m), [
      {
        message: "Unknown source reference(s) {'sha256:bbbb'}",
        path: [...STAGE0, 'inputs', 'f', 'references'],
      },
    ]);
  });

  it('refuses a device cycle and a missing parent', () => {
    const cycle = {
      a: luks('b'),
      b: luks('a'),
      c: { type: 'org.osbuild.loopback', options: { filename: 'f' } },
    };
    const m = {
      version: '2',
      pipelines: [{ name: 'p', stages: [noop({ devices: cycle }), noop({ devices: { a: luks('nope') } })] }],
    };
    assert.deepEqual(errors(m), [
      { message: "Cycle detected in 'devices'", path: [...STAGE0, 'devices'] },
      {
        message: "Missing parent device 'nope' for 'a'",
        path: ['pipelines', 0, 'stages', 1, 'devices', 'a', 'parent'],
      },
    ]);
  });

  it('refuses a repeated mount name and a mount on an unknown device', () => {
    const devices = { disk: { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } } };
    const mount = (name: string, source: string) => ({ name, type: 'org.osbuild.ext4', source, target: '/' });
    const m = {
      version: '2',
      pipelines: [
        {
          name: 'p',
          stages: [
            noop({ devices, mounts: [mount('root', 'disk'), mount('root', 'disk'), mount('boot', 'nodev')] }),
          ],
        },
      ],
    };
    assert.deepEqual(errors(m), [
      { message: "Duplicated mount 'root'", path: [...STAGE0, 'mounts', 1] },
      { message: "Unknown device 'nodev' for mount 'boot'", path: [...STAGE0, 'mounts', 2, 'source'] },
    ]);
  });

  it('reports three loading problems as three errors', () => {
    const m = {
      version: '2',
      pipelines: [
        { name: 'a', stages: [noop(pipelineInput(['name:b']))] },
        { name: 'a' },
        { name: 'c', stages: [noop({ devices: { x: luks('x') } })] },
      ],
    };
    assert.deepEqual(errors(m), [
      { message: 'Unknown pipeline reference: name:b', path: [...STAGE0, 'inputs', 't', 'references'] },
      { message: 'Name a already exists', path: ['pipelines', 1, 'name'] },
      { message: "Cycle detected in 'devices'", path: ['pipelines', 2, 'stages', 0, 'devices'] },
    ]);
  });
});

describe('format version', () => {
  const refused = (desc: unknown, message: string) => {
    for (const f of [() => detectFormat(desc), () => validateManifest(desc), () => loadManifest(desc)]) {
      assert.throws(
        f,
        (err: unknown) =>
          err instanceof ManifestError &&
          err.code === ManifestErrorCode.UnsupportedFormat &&
          err.message === message,
      );
    }
  };

  it("accepts only the string '2'", () => {
    refused(
      { version: '1', pipelines: [] },
      "unsupported manifest format: version '1'; only version '2' is supported",
    );
    refused(
      { version: 2, pipelines: [] },
      "unsupported manifest format: version 2; only version '2' is supported",
    );
    refused({ pipelines: [] }, "unsupported manifest format: version '1'; only version '2' is supported");
  });

  it('needs an object', () => {
    refused([], 'a manifest must be a JSON object');
    refused(null, 'a manifest must be a JSON object');
    refused('2', 'a manifest must be a JSON object');
  });
});

describe('module schemas from a libdir', () => {
  const libdir = mkdtempSync(join(tmpdir(), 'forge-libdir-'));
  after(() => rmSync(libdir, { recursive: true, force: true }));
  mkdirSync(join(libdir, 'stages'));
  writeFileSync(join(libdir, 'stages', 'org.test.level'), '');
  writeFileSync(
    join(libdir, 'stages', 'org.test.level.meta.json'),
    JSON.stringify({
      summary: 'A stage with an integer option',
      description: ['For tests.'],
      schema_2: { options: { properties: { level: { type: 'integer', minimum: 1, maximum: 9 } } } },
    }),
  );
  const index = new LibdirIndex(libdir);
  const level = (v: string) =>
    errors(
      `{"version": "2", "pipelines": [{"name": "a", "stages": [{"type": "org.test.level", "options": {"level": ${v}}}]}]}`,
      {
        index,
      },
    );
  const at = [...STAGE0, 'options', 'level'];

  it("checks integers as Python's jsonschema does: floats are never integers", () => {
    assert.deepEqual(level('2'), []);
    assert.deepEqual(level('2.0'), [{ message: "2.0 is not of type 'integer'", path: at }]);
    assert.deepEqual(level('10.0'), [
      { message: '10.0 is greater than the maximum of 9', path: at },
      { message: "10.0 is not of type 'integer'", path: at },
    ]);
    assert.deepEqual(level('1e400'), [
      { message: 'inf is greater than the maximum of 9', path: at },
      { message: "inf is not of type 'integer'", path: at },
    ]);
  });

  it('reports an unknown stage', () => {
    const m = { version: '2', pipelines: [{ name: 'a', stages: [{ type: 'org.test.nope' }] }] };
    assert.deepEqual(errors(m, { index }), [
      { message: "could not find schema information for 'org.test.nope'", path: STAGE0 },
    ]);
  });
});

describe('names that become paths', () => {
  const ATTACK = '../../../../../../../../../../tmp/x/secretdir';
  const mkdir = { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/x' }] } };

  it('refuses a pipeline name that is not one safe path component, at .pipelines[N].name', () => {
    const m = {
      version: '2',
      pipelines: [
        { name: ATTACK, stages: [mkdir] },
        { name: '..', stages: [] },
        { name: 'a\u0000b', stages: [] },
        { name: 'x'.repeat(300), stages: [] },
        { name: 'os', stages: [] },
      ],
    };
    assert.deepEqual(
      errors(m).map((e) => [pathId(e.path), e.message.replace(/ cannot.*: /, ': ')]),
      [
        ['.pipelines[0].name', `pipeline name "${ATTACK}": it contains '/'`],
        ['.pipelines[1].name', `pipeline name "..": '..' names a directory, not an entry in it`],
        ['.pipelines[2].name', 'pipeline name "a\\u0000b": it contains a NUL character'],
        [
          '.pipelines[3].name',
          `pipeline name "${'x'.repeat(60)}…" (300 characters): it is 300 bytes long, more than 255`,
        ],
      ],
    );
    assert.throws(
      () => loadManifest(m),
      (err: unknown) => err instanceof ManifestValidationError && err.result.size === 4,
    );
  });

  it("refuses input names that OSBuild's unanchored pattern lets through, and unsafe source item keys", () => {
    const m = {
      version: '2',
      sources: { 'org.osbuild.inline': { items: { '../../etc/passwd': { encoding: 'base64', data: '' } } } },
      pipelines: [
        {
          name: 'a',
          stages: [
            noop({
              inputs: {
                'a/../../../escape': {
                  type: 'org.osbuild.files',
                  origin: 'org.osbuild.source',
                  references: ['../../etc/passwd'],
                },
              },
            }),
          ],
        },
      ],
    };
    assert.deepEqual(
      errors(m).map((e) => [pathId(e.path), e.message]),
      [
        [
          '.pipelines[0].stages[0].inputs.a/../../../escape',
          `input name "a/../../../escape" cannot be used as a file name: it contains '/'`,
        ],
        [
          '.sources.org.osbuild.inline.items.../../etc/passwd',
          `source item "../../etc/passwd" cannot be used as a file name: it contains '/'`,
        ],
      ],
    );
  });
});
