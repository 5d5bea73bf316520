import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { InputArgument } from '../../shared/arguments.ts';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as init } from '../org.osbuild.ostree.init/stage.ts';
import { committedThroughWorkingRepo, main } from './stage.ts';

const hasOstree = hasProgram('ostree');
const skip = !hasOstree && 'ostree is not installed (apt-get install ostree)';

const REF = 'debian/12/x86_64/atomic';
const EPOCH = 1_700_000_000;

describe('org.osbuild.ostree.commit', { skip }, () => {
  let root: TestRoot;
  let input: InputArgument;
  let repo: string;
  beforeEach(() => {
    root = testRoot();
    input = root.input('tree');
    const t = input.path;
    mkdirSync(join(t, 'usr/lib/modules/6.1.0-test'), { recursive: true });
    mkdirSync(join(t, 'usr/etc'), { recursive: true });
    writeFileSync(join(t, 'usr/lib/modules/6.1.0-test/vmlinuz'), 'kernel');
    writeFileSync(join(t, 'usr/lib/modules/6.1.0-test/initramfs.img'), 'initramfs');
    writeFileSync(join(t, 'usr/etc/os-release'), 'ID=debian\n');
    init(root.args({ mode: 'bare-user' }));
    repo = join(root.tree, 'repo');
  });
  afterEach(() => root.cleanup());

  const ostree = (...argv: string[]) =>
    execFileSync('ostree', [...argv, `--repo=${repo}`], { encoding: 'utf8' });
  const commit = (options: Record<string, unknown>, epoch = EPOCH) =>
    main(
      root.args(options, { inputs: { tree: input }, meta: { id: 'ab'.repeat(32), 'source-epoch': epoch } }),
    );

  it('commits the input tree under the ref and reports it as OSBuild does', () => {
    const meta = commit({ ref: REF, os_version: '12.1' });
    const id = meta.compose['ostree-commit'] as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(meta.compose.ref, REF);
    assert.equal(meta.compose['ostree-version'], '12.1');
    assert.equal(meta.compose['ostree-timestamp'], '2023-11-14T22:13:20Z');
    assert.equal(typeof meta.compose['ostree-n-content-written'], 'number');
    assert.deepEqual(JSON.parse(readFileSync(join(root.tree, 'compose.json'), 'utf8')), meta.compose);
    assert.equal(ostree('refs').trim(), REF);
    assert.equal(ostree('rev-parse', REF).trim(), id);
    const log = ostree('log', REF);
    assert.match(log, /Version: 12\.1/);
    assert.match(log, /Date: {2}2023-11-14 22:13:20 \+0000/);
    assert.equal(ostree('show', '--print-metadata-key=version', id).trim(), "'12.1'");
    assert.equal(ostree('show', '--print-metadata-key=ostree.bootable', id).trim(), 'true');
    assert.equal(ostree('cat', id, '/usr/etc/os-release'), 'ID=debian\n');
    assert.match(ostree('ls', '-R', id, '/usr/lib/modules'), /vmlinuz/);
  });

  it('gives the same commit id for the same tree and SOURCE_DATE_EPOCH', () => {
    const first = commit({ ref: REF, os_version: '1' }).compose['ostree-commit'];
    const old = root;
    root = testRoot();
    const again = root.input('tree');
    execFileSync('cp', ['-a', `${input.path}/.`, again.path]);
    old.cleanup();
    input = again;
    // Another mode (archive): the same commit id.
    init(root.args({ mode: 'archive' }));
    repo = join(root.tree, 'repo');
    assert.equal(commit({ ref: REF, os_version: '1' }).compose['ostree-commit'], first);
    assert.notEqual(commit({ ref: 'other', os_version: '1' }, EPOCH + 1).compose['ostree-commit'], first);
  });

  it('makes no new commit for an unchanged tree, and chains a changed one to its parent', () => {
    const v1 = commit({ ref: REF, os_version: '1' }).compose['ostree-commit'] as string;
    const same = commit({ ref: REF, os_version: '2' }, EPOCH + 10);
    assert.equal(same.compose['ostree-commit'], v1);
    assert.equal(same.compose['ostree-n-content-written'], undefined);
    assert.equal(ostree('rev-parse', REF).trim(), v1);

    writeFileSync(join(input.path, 'usr/etc/motd'), 'version 2\n');
    const v2 = commit({ ref: REF, os_version: '2', parent: v1 }, EPOCH + 20).compose[
      'ostree-commit'
    ] as string;
    assert.notEqual(v2, v1);
    assert.equal(ostree('rev-parse', REF).trim(), v2);
    assert.equal(ostree('rev-parse', `${REF}^`).trim(), v1);
    const log = ostree('log', REF);
    assert.match(log, new RegExp(`commit ${v2}[^]*commit ${v1}`));

    // Without `parent` the current head of the ref is the parent.
    writeFileSync(join(input.path, 'usr/etc/motd'), 'version 3\n');
    const v3 = commit({ ref: REF, os_version: '3' }, EPOCH + 30).compose['ostree-commit'];
    assert.equal(ostree('rev-parse', `${REF}^`).trim(), v2);
    assert.equal(ostree('rev-parse', REF).trim(), v3);
  });

  it('commits through a bare-user working repository into an archive one, skipping an unchanged tree', () => {
    execFileSync('rm', ['-rf', repo]);
    init(root.args({ mode: 'archive' }));
    const v1 = commit({ ref: REF, os_version: '1' }).compose['ostree-commit'] as string;
    // ostree calls the mode archive-z2 in the configuration: still an archive, committed through the working repository.
    assert.equal(committedThroughWorkingRepo(repo), true);
    assert.equal(existsSync(join(root.tree, '.ostree-commit-work')), false);
    assert.match(ostree('fsck'), /no errors/);
    assert.equal(ostree('cat', REF, '/usr/etc/os-release'), 'ID=debian\n');
    const same = commit({ ref: REF, os_version: '1' }, EPOCH + 10);
    assert.equal(same.compose['ostree-commit'], v1);
    assert.equal(same.compose['ostree-n-content-written'], undefined);
    assert.equal(existsSync(join(root.tree, '.ostree-commit-work')), false);
    writeFileSync(join(input.path, 'usr/etc/motd'), 'version 2\n');
    const v2 = commit({ ref: REF, os_version: '2' }, EPOCH + 20).compose['ostree-commit'] as string;
    assert.equal(ostree('rev-parse', `${REF}^`).trim(), v1);
    assert.equal(ostree('rev-parse', REF).trim(), v2);
    assert.match(ostree('fsck'), /no errors/);
  });

  it('records a parent that is not in the repository (a child of a commit built elsewhere)', () => {
    const parent = 'c'.repeat(64);
    const child = commit({ ref: REF, os_version: '2', parent }).compose['ostree-commit'] as string;
    assert.match(ostree('show', child), new RegExp(`^Parent:\\s+${parent}$`, 'm'));
    execFileSync('rm', ['-rf', repo]);
    init(root.args({ mode: 'archive' }));
    const archived = commit({ ref: REF, os_version: '2', parent }).compose['ostree-commit'] as string;
    assert.match(ostree('show', archived), new RegExp(`^Parent:\\s+${parent}$`, 'm'));
  });

  it('commits straight into a bare-user repository', () => {
    assert.equal(committedThroughWorkingRepo(repo), false);
  });

  it('refuses a missing repository, a bad ref and a bad parent', () => {
    assert.throws(() => commit({ ref: 'a b' }), /invalid ref/);
    assert.throws(() => commit({ ref: REF, parent: 'HEAD' }), /not a commit checksum/);
    execFileSync('rm', ['-rf', repo]);
    assert.throws(() => commit({ ref: REF }), /no OSTree repository at \/repo/);
    assert.equal(existsSync(repo), false);
  });
});
