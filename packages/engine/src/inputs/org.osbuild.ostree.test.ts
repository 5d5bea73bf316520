import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Input } from '@debian-forge/manifest';
import { INPUTS_IN_SANDBOX, mapInputs } from './index.ts';

const hasOstree = (() => {
  try {
    execFileSync('ostree', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const ostree = (repo: string, ...argv: string[]) =>
  execFileSync('ostree', [...argv, `--repo=${repo}`], { encoding: 'utf8' }).trim();

describe('input org.osbuild.ostree', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let dir: string;
  let pipelineTree: string;
  let commit: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'forge-input-ostree-'));
    // A pipeline tree as org.osbuild.ostree.commit leaves it: /repo and /compose.json.
    pipelineTree = join(dir, 'pipeline');
    const content = join(dir, 'content');
    mkdirSync(join(content, 'usr/etc'), { recursive: true });
    writeFileSync(join(content, 'usr/etc/os-release'), 'ID=debian\n');
    writeFileSync(join(content, 'usr/etc/shadow'), 'root:*:1::::::\n', { mode: 0o640 });
    symlinkSync('os-release', join(content, 'usr/etc/release'));
    mkdirSync(pipelineTree);
    ostree(join(pipelineTree, 'repo'), 'init', '--mode=archive');
    commit = ostree(join(pipelineTree, 'repo'), 'commit', '--branch=debian/test', `--tree=dir=${content}`);
    writeFileSync(join(pipelineTree, 'compose.json'), JSON.stringify({ 'ostree-commit': commit }));
    // The same commit in a source cache.
    const cache = join(dir, 'sources/org.osbuild.ostree/repo');
    mkdirSync(join(dir, 'sources/org.osbuild.ostree'), { recursive: true });
    ostree(cache, 'init', '--mode=archive');
    ostree(cache, 'pull-local', join(pipelineTree, 'repo'), commit);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ctx = () => ({
    inputsDir: join(dir, 'inputs'),
    sourcesDir: join(dir, 'sources'),
    pipeline: async (id: string) =>
      id === 'p'.repeat(64)
        ? { path: pipelineTree, tree: pipelineTree, metaDir: join(dir, 'meta') }
        : undefined,
  });
  const input = (
    origin: Input['origin'],
    refs: [string, Record<string, string>][],
    type = 'org.osbuild.ostree',
  ): Input => ({
    name: 'commits',
    type,
    origin,
    options: {},
    refs: new Map(refs),
    id: '',
  });

  it('pulls the commit of a pipeline into a new repository, with the ref asked for', async () => {
    const mapped = await mapInputs(
      new Map([['commits', input('org.osbuild.pipeline', [['p'.repeat(64), { ref: 'debian/pulled' }]])]]),
      ctx(),
    );
    assert.deepEqual(mapped.args.commits, {
      path: `${INPUTS_IN_SANDBOX}/commits/repo`,
      data: { refs: { [commit]: { ref: 'debian/pulled' } } },
    });
    const repo = join(dir, 'inputs/commits/repo');
    assert.equal(ostree(repo, 'refs'), 'debian/pulled');
    assert.equal(ostree(repo, 'rev-parse', 'debian/pulled'), commit);
    assert.equal(ostree(repo, 'cat', commit, '/usr/etc/os-release'), 'ID=debian');
  });

  it('pulls a commit from the source cache, and refuses what is not a commit', async () => {
    const mapped = await mapInputs(
      new Map([['commits', input('org.osbuild.source', [[commit, {}]])]]),
      ctx(),
    );
    assert.deepEqual(mapped.args.commits?.data, { refs: { [commit]: {} } });
    assert.equal(ostree(join(dir, 'inputs/commits/repo'), 'refs'), '');
    assert.match(ostree(join(dir, 'inputs/commits/repo'), 'ls', commit, '/usr/etc'), /os-release/);
    await assert.rejects(
      mapInputs(new Map([['bad', input('org.osbuild.source', [['main', {}]])]]), ctx()),
      /'main' is not a commit id/,
    );
  });

  it('checks out the commit of a source or a pipeline into a directory named by the commit', async () => {
    const checkout = 'org.osbuild.ostree.checkout';
    const mapped = await mapInputs(
      new Map([
        ['src', { ...input('org.osbuild.source', [[commit, {}]], checkout), name: 'src' }],
        ['pl', { ...input('org.osbuild.pipeline', [['p'.repeat(64), {}]], checkout), name: 'pl' }],
      ]),
      ctx(),
    );
    for (const name of ['src', 'pl']) {
      assert.deepEqual(mapped.args[name], {
        path: `${INPUTS_IN_SANDBOX}/${name}`,
        data: { refs: { [commit]: { path: commit } } },
      });
      const tree = join(dir, 'inputs', name, commit);
      assert.deepEqual(readdirSync(join(dir, 'inputs', name)), [commit]);
      assert.equal(readFileSync(join(tree, 'usr/etc/os-release'), 'utf8'), 'ID=debian\n');
      assert.equal(lstatSync(join(tree, 'usr/etc/shadow')).mode & 0o777, 0o640);
      assert.equal(readlinkSync(join(tree, 'usr/etc/release')), 'os-release');
    }
    await assert.rejects(
      mapInputs(new Map([['bad', input('org.osbuild.source', [['f'.repeat(64), {}]], checkout)]]), ctx()),
      /ostree checkout/,
    );
  });
});
