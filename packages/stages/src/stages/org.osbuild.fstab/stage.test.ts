import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { moduleSchema, Schema } from '@debian-forge/manifest';
import { metaJsonOf } from '../../shared/define.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import definition from './schema.ts';
import { main } from './stage.ts';

const schema = new Schema(moduleSchema('Stage', definition.type, undefined, metaJsonOf(definition).schema_2));
const problems = (options: unknown) =>
  schema.validate({ type: definition.type, options }).errors.map((e) => e.message);

const COMMIT = 'b6cdf47cafd171e003c001802f1829ad39e20f7177d6e27401aba73efb71be22';

describe('org.osbuild.fstab', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    mkdirSync(join(root.tree, 'etc'));
  });
  afterEach(() => root.cleanup());

  it('replaces /etc/fstab with one tab-separated line per file system', () => {
    writeFileSync(join(root.tree, 'etc/fstab'), 'old entry\n');
    main(
      root.args({
        filesystems: [
          {
            uuid: '6e2ae4a9-4f2c-4ee9-9d4c-2e2f6ad6e0c1',
            vfs_type: 'ext4',
            path: '/',
            options: 'errors=remount-ro',
            passno: 1,
          },
          {
            label: 'ESP',
            vfs_type: 'vfat',
            path: '/boot/efi',
            options: 'umask=0077,shortname=winnt',
            passno: 2,
          },
          { partlabel: 'swap', path: 'none', vfs_type: 'swap', options: 'sw' },
          { device: 'tmpfs', path: '/tmp', vfs_type: 'tmpfs', freq: 0 },
          { device: '/dev/vdb1', path: '/srv' },
        ],
      }),
    );
    assert.equal(
      readFileSync(join(root.tree, 'etc/fstab'), 'utf8'),
      [
        'UUID=6e2ae4a9-4f2c-4ee9-9d4c-2e2f6ad6e0c1\t/\text4\terrors=remount-ro\t0\t1',
        'LABEL=ESP\t/boot/efi\tvfat\tumask=0077,shortname=winnt\t0\t2',
        'PARTLABEL=swap\tnone\tswap\tsw\t0\t0',
        'tmpfs\t/tmp\ttmpfs\tdefaults\t0\t0',
        '/dev/vdb1\t/srv\tnone\tdefaults\t0\t0',
        '',
      ].join('\n'),
    );
  });

  it("has OSBuild's schema: exactly one of uuid, label, partlabel, device per entry", () => {
    assert.deepEqual(problems({ filesystems: [{ uuid: 'u', path: '/', vfs_type: 'ext4', passno: 1 }] }), []);
    assert.match(
      problems({ filesystems: [{ uuid: 'u', label: 'l', path: '/' }] }).join(),
      /valid under each/,
    );
    assert.match(problems({ filesystems: [{ label: 'l' }] }).join(), /not valid under any/);
    assert.match(
      problems({ filesystems: [], ostree: { deployment: { default: true, ref: 'r' } } }).join(),
      /not valid/,
    );
    assert.deepEqual(
      problems({ filesystems: [], ostree: { deployment: { osname: 'o', ref: 'r', serial: 1 } } }),
      [],
    );
  });

  it('fails for an entry that names no file system', () => {
    assert.throws(
      () => main(root.args({ filesystems: [{ path: '/' }] })),
      /needs uuid, label, partlabel or device/,
    );
  });

  it('stays in the tree when /etc is a symbolic link out of it', () => {
    rmSync(join(root.tree, 'etc'), { recursive: true });
    mkdirSync(join(root.tree, 'etc2'));
    symlinkSync('../../../../../../etc2', join(root.tree, 'etc'));
    main(root.args({ filesystems: [{ device: '/dev/sda1', path: '/' }] }));
    assert.match(readFileSync(join(root.tree, 'etc2/fstab'), 'utf8'), /^\/dev\/sda1\t\/\t/);
    assert.ok(!existsSync(join(root.dir, 'etc2/fstab')));
  });

  it('writes the fstab of an ostree deployment given by ref or found as the default', () => {
    const deployEtc = join(root.tree, `ostree/deploy/debian/deploy/${COMMIT}.0/etc`);
    mkdirSync(deployEtc, { recursive: true });
    mkdirSync(join(root.tree, 'ostree/repo/refs/heads/debian/bookworm'), { recursive: true });
    writeFileSync(join(root.tree, 'ostree/repo/refs/heads/debian/bookworm/x86_64'), `${COMMIT}\n`);
    const fs = [{ label: 'root', path: '/', vfs_type: 'ext4' }];
    main(
      root.args({
        filesystems: fs,
        ostree: { deployment: { osname: 'debian', ref: 'debian/bookworm/x86_64' } },
      }),
    );
    assert.equal(readFileSync(join(deployEtc, 'fstab'), 'utf8'), 'LABEL=root\t/\text4\tdefaults\t0\t0\n');
    assert.ok(!existsSync(join(root.tree, 'etc/fstab')));

    main(
      root.args({ filesystems: [{ label: 'other', path: '/' }], ostree: { deployment: { default: true } } }),
    );
    assert.match(readFileSync(join(deployEtc, 'fstab'), 'utf8'), /^LABEL=other\t/);

    assert.throws(
      () =>
        main(
          root.args({ filesystems: fs, ostree: { deployment: { osname: 'debian', ref: 'no/such/ref' } } }),
        ),
      /ref 'no\/such\/ref' not found/,
    );
    mkdirSync(join(root.tree, `ostree/deploy/other/deploy/${'0'.repeat(64)}.0`), { recursive: true });
    assert.throws(
      () => main(root.args({ filesystems: fs, ostree: { deployment: { default: true } } })),
      /more than one ostree deployment/,
    );
  });
});
