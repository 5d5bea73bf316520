import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hasProgram, type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as init } from '../org.osbuild.ostree.init/stage.ts';
import { main } from './stage.ts';

const hasOstree = hasProgram('ostree');

describe('org.osbuild.ostree.config', { skip: !hasOstree && 'ostree is not installed' }, () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    init(root.args({ mode: 'bare', path: '/ostree/repo' }));
  });
  afterEach(() => root.cleanup());

  const get = (key: string) =>
    execFileSync('ostree', ['config', `--repo=${join(root.tree, 'ostree/repo')}`, 'get', key], {
      encoding: 'utf8',
    }).trim();

  it('sets the sysroot keys given, false included', () => {
    main(
      root.args({
        repo: '/ostree/repo',
        config: {
          sysroot: {
            bootloader: 'none',
            bootprefix: false,
            readonly: true,
            'bls-append-except-default': 'quiet=1',
          },
        },
      }),
    );
    assert.equal(get('sysroot.bootloader'), 'none');
    assert.equal(get('sysroot.bootprefix'), 'false');
    assert.equal(get('sysroot.readonly'), 'true');
    assert.equal(get('sysroot.bls-append-except-default'), 'quiet=1');
  });

  it('resolves repo inside the tree and refuses a missing repository', () => {
    main(root.args({ repo: '/../../ostree/repo', config: { sysroot: { bootloader: 'grub2' } } }));
    assert.equal(get('sysroot.bootloader'), 'grub2');
    assert.throws(() => main(root.args({ repo: '/repo', config: {} })), /no OSTree repository at \/repo/);
    assert.equal(existsSync(join(root.tree, 'repo')), false);
  });
});
