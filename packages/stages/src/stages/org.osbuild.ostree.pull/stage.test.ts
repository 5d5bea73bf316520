import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { InputArgument } from '../../shared/arguments.ts';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as initFs } from '../org.osbuild.ostree.init-fs/stage.ts';
import { main } from './stage.ts';

const hasOstree = hasProgram('ostree');

const ostree = (repo: string, ...argv: string[]) =>
  execFileSync('ostree', [...argv, `--repo=${repo}`], { encoding: 'utf8' }).trim();

describe('org.osbuild.ostree.pull', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let root: TestRoot;
  let commits: InputArgument;
  let commit: string;
  beforeEach(() => {
    root = testRoot();
    // The input as the engine maps org.osbuild.ostree: an archive repository and data.refs.
    const input = root.input('commits');
    const content = join(root.dir, 'content');
    mkdirSync(join(content, 'usr'), { recursive: true });
    writeFileSync(join(content, 'usr/hello'), 'hello\n');
    ostree(input.path, 'init', '--mode=archive');
    commit = ostree(input.path, 'commit', '--branch=debian/12/x86_64/atomic', `--tree=dir=${content}`);
    commits = { path: input.path, data: { refs: { [commit]: { ref: 'debian/12/x86_64/atomic' } } } };
    initFs(root.args({}));
  });
  afterEach(() => root.cleanup());

  it('pulls the commit by its ref, under a remote', () => {
    main(root.args({ repo: '/ostree/repo', remote: 'origin' }, { inputs: { commits } }));
    const repo = join(root.tree, 'ostree/repo');
    assert.equal(ostree(repo, 'refs'), 'origin:debian/12/x86_64/atomic');
    assert.equal(ostree(repo, 'rev-parse', 'origin:debian/12/x86_64/atomic'), commit);
    assert.equal(ostree(repo, 'cat', commit, '/usr/hello'), 'hello');
  });

  it('pulls by commit id without a ref, and stays inside the tree', () => {
    commits = { path: commits.path, data: { refs: { [commit]: {} } } };
    main(root.args({ repo: '/../../ostree/repo' }, { inputs: { commits } }));
    const repo = join(root.tree, 'ostree/repo');
    assert.equal(ostree(repo, 'refs'), '');
    assert.equal(ostree(repo, 'cat', commit, '/usr/hello'), 'hello');
    assert.throws(
      () => main(root.args({ repo: '/nope' }, { inputs: { commits } })),
      /no OSTree repository at \/nope/,
    );
  });
});
