// The slow test of org.osbuild.apt: a kernel package, whose postinst runs update-initramfs in the tree.
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  type CachedDeb,
  DebsUnavailable,
  debInput,
  debianSkipReason,
  debsFor,
  hostMirror,
} from '../../shared/debs.fixture.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main as debootstrap } from '../org.osbuild.debootstrap/stage.ts';
import { main } from './stage.ts';

const BASE = ['?essential', '?priority(required)', 'usr-is-merged'];
const SUITE = hostMirror()?.suite ?? 'bookworm';

let skip = debianSkipReason();
let base: CachedDeb[] = [];
let kernel: CachedDeb[] = [];
let root: TestRoot;

function ready(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return !skip;
}

function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

describe('org.osbuild.apt with a kernel', { timeout: 15 * 60 * 1000 }, () => {
  before(() => {
    if (!skip) {
      try {
        base = debsFor(BASE);
        const inBase = new Set(base.map((d) => d.filename));
        kernel = debsFor([...BASE, 'linux-image-amd64']).filter((d) => !inBase.has(d.filename));
      } catch (err) {
        if (!(err instanceof DebsUnavailable)) throw err;
        skip = `no Debian packages to test with: ${(err as Error).message}`;
      }
    }
    if (skip) process.stdout.write(`# skipping the org.osbuild.apt kernel test: ${skip}\n`);
    else root = testRoot('forge-apt-kernel-');
  });
  after(() => root?.cleanup());

  it('installs linux-image-amd64 and leaves a kernel and an initramfs in /boot', (t) => {
    if (!ready(t)) return;
    const tree = root.tree;
    const meta = { id: '0'.repeat(64), 'source-epoch': 1700000000 };
    let started = Date.now();
    debootstrap(
      root.args(
        { suite: SUITE },
        { tree, inputs: { packages: debInput(join(root.dir, 'inputs/base'), base) }, meta },
      ),
    );
    t.diagnostic(`base bootstrap: ${(Date.now() - started) / 1000} s`);
    started = Date.now();
    const { packages } = main(
      root.args(
        { packages: ['linux-image-amd64'] },
        { tree, inputs: { packages: debInput(join(root.dir, 'inputs/kernel'), kernel) }, meta },
      ),
    );
    t.diagnostic(
      `apt install of linux-image-amd64 (${kernel.length} packages): ${(Date.now() - started) / 1000} s`,
    );

    const names = packages.map((p) => p.name);
    assert.ok(names.includes('linux-image-amd64') && names.includes('initramfs-tools'));
    const boot = readdirSync(join(tree, 'boot'));
    const vmlinuz = boot.find((n) => n.startsWith('vmlinuz-'));
    assert.ok(vmlinuz, `no kernel in /boot: ${boot.join(' ')}`);
    const version = vmlinuz.slice('vmlinuz-'.length);
    const initrd = join(tree, 'boot', `initrd.img-${version}`);
    assert.ok(statSync(initrd).size > 1024 * 1024, 'the initramfs is there and not tiny');
    // a cpio archive ("070701") or one compressed with zstd or gzip
    const magic = head(initrd, 6);
    assert.ok(
      magic.toString('latin1') === '070701' ||
        magic.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])) ||
        magic.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])),
      `unexpected initramfs header ${magic.toString('hex')}`,
    );
    assert.ok(statSync(join(tree, 'usr/lib/modules', version, 'modules.dep')).size > 0);
    // nothing mounted or started is left: /proc, /dev, /run and /tmp of the tree are as before
    for (const dir of ['proc', 'sys', 'dev', 'tmp']) assert.deepEqual(readdirSync(join(tree, dir)), [], dir);
    assert.deepEqual(readdirSync(join(tree, 'run')), ['lock']);
    assert.equal(
      readFileSync('/proc/self/mountinfo', 'utf8').includes(root.dir),
      false,
      'a mount is left under the test directory',
    );
  });
});
