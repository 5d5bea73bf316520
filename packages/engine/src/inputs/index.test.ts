/**
 * Inputs map names and files of a manifest to host paths: an input's directory, a source file by
 * checksum, a file of a pipeline's tree bound read-only into the sandbox. None of them may lead out
 * of its directory, whether by its name or by a symbolic link a stage left in a tree.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Input, JsonObject } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { INPUTS_IN_SANDBOX, mapInputs } from './index.ts';

describe('input paths', () => {
  let dir: string;
  let tree: string;
  let host: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'forge-inputs-'));
    tree = join(dir, 'pipeline', 'tree');
    host = join(dir, 'host');
    mkdirSync(join(tree, 'boot'), { recursive: true });
    mkdirSync(host);
    writeFileSync(join(host, 'shadow'), 'root:secret:1::::::\n', { mode: 0o600 });
    writeFileSync(join(tree, 'boot', 'vmlinuz'), 'kernel\n');
    // What a stage of the pipeline could leave in its tree.
    symlinkSync(join(host, 'shadow'), join(tree, 'image'));
    symlinkSync(host, join(tree, 'hostdir'));
    symlinkSync('boot/vmlinuz', join(tree, 'vmlinuz'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ctx = () => ({
    inputsDir: join(dir, 'inputs'),
    sourcesDir: join(dir, 'sources'),
    pipeline: async (id: string) =>
      id === 'p' ? { path: join(dir, 'pipeline'), tree, metaDir: join(dir, 'meta') } : undefined,
  });
  const filesInput = (
    name: string,
    refs: [string, JsonObject][],
    origin = 'org.osbuild.pipeline',
  ): Input => ({
    name,
    type: 'org.osbuild.files',
    origin: origin as Input['origin'],
    options: {},
    refs: new Map(refs),
    id: name,
  });
  const refused = async (input: Input, pattern: RegExp) =>
    assert.rejects(
      mapInputs(new Map([[input.name, input]]), ctx()),
      (e: unknown) => e instanceof EngineError && e.code === EngineErrorCode.Input && pattern.test(e.message),
    );

  it('binds a file of a pipeline, also through a link that stays in the tree', async () => {
    const mapped = await mapInputs(new Map([['k', filesInput('k', [['p', { file: '/vmlinuz' }]])]]), ctx());
    assert.deepEqual(mapped.binds, [[join(tree, 'boot', 'vmlinuz'), `${INPUTS_IN_SANDBOX}/k/vmlinuz`]]);
  });

  it('refuses a file that a symbolic link in the tree leads out of it: no host file is bound', async () => {
    await refused(filesInput('k', [['p', { file: '/image' }]]), /symbolic link to .*host\/shadow/);
    await refused(filesInput('k', [['p', { file: 'hostdir/shadow' }]]), /leads out/);
    await refused(filesInput('k', [['p', { file: '../../host/shadow' }]]), /'\.\.'/);
  });

  it('refuses input names and source references that are not one path component', async () => {
    for (const name of ['../../../escape', '..', 'a/b', '']) {
      await refused(filesInput(name, []), /cannot be used as a file name/);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['host', 'inputs', 'pipeline']);
    await refused(filesInput('s', [['../../host/shadow', {}]], 'org.osbuild.source'), /source reference/);
    assert.deepEqual(readdirSync(host), ['shadow']);
  });
});
