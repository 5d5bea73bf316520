/**
 * `forge compose blueprints/server.toml --type qcow2`, booted with QEMU (TCG) twice, BIOS and UEFI:
 * log in on the serial console as the blueprint's user and check the hostname, a package, an
 * enabled service, the root file system by UUID, and that systemd reports no failed unit. A disk
 * too small for the packages fails with a message that says so.
 *
 * A debian-13 qcow2 built on this host carries the GRUB of its build root (trixie's), which differs
 * from bookworm's, and boots once under BIOS: its /boot/grub modules are the build root's files and
 * name its grub-pc-bin version, and the core image in the BIOS boot partition starts with the
 * build root's decompressor.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIOS_BOOT_GUID } from '@debian-forge/stages/stages/org.osbuild.grub2.inst';
import { bootImage, vmUnavailable } from '@debian-forge/stages/testing/vm';
import { buildRootPackage } from './build-root.fixture.ts';
import { forge, REPO, sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';

const skip = sandboxUnavailable() ?? vmUnavailable('uefi');
if (skip) console.log(`# skipping qcow2 compose and boot tests: ${skip}`);

/** The test password of the server blueprint's user (see blueprints/server.toml). */
const PASSWORD = 'forge-test-password';

describe('forge compose qcow2 of blueprints/server.toml', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let image: string;
  before(() => {
    dir = tempDir('forge-qcow2-');
    const out = join(dir.path, 'out');
    const r = forge([
      'compose',
      join(REPO, 'blueprints/server.toml'),
      '--type',
      'qcow2',
      '--size',
      '3 GiB',
      '--state-dir',
      sharedStateDir(join(dir.path, 'state')),
      '--output',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout.slice(-4000) + r.stderr);
    image = join(out, 'disk.qcow2');
  });
  after(() => dir.cleanup());

  for (const firmware of ['bios', 'uefi'] as const) {
    it(`boots under ${firmware.toUpperCase()} and runs what the blueprint asked for`, async () => {
      const vm = await bootImage({ image, format: 'qcow2', firmware, memoryMiB: 1536 });
      assert.ok(!('skipped' in vm), 'skipped' in vm ? vm.skipped : '');
      try {
        await vm.login('forge', PASSWORD);
        const host = await vm.run('hostname');
        assert.equal(host.output.trim(), 'forge-server');
        const nginx = await vm.run('dpkg-query -W nginx');
        assert.equal(nginx.exitCode, 0, nginx.output);
        assert.match(nginx.output, /^nginx\t\S+/m);
        const ssh = await vm.run('systemctl is-enabled ssh.service');
        assert.equal(ssh.output.trim(), 'enabled');
        const state = await vm.run('systemctl is-system-running --wait');
        assert.match(state.output, /running|degraded/);
        const failed = await vm.run('systemctl --failed --no-legend --plain --no-pager | cat');
        // The serial console is a terminal: drop its control sequences before comparing.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the sequences removed here
        const units = failed.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim();
        assert.equal(units, '', `failed units:\n${units}`);
        const cmdline = await vm.run('cat /proc/cmdline');
        assert.match(cmdline.output, /root=UUID=[0-9a-f-]{36}/);
        assert.doesNotMatch(cmdline.output, /loop/);
        const efi = await vm.run('test -d /sys/firmware/efi');
        assert.equal(efi.exitCode, firmware === 'uefi' ? 0 : 1);
      } finally {
        await vm.shutdown();
      }
    });
  }

  // The same blueprint and type: the os tree comes from the store, only the disk is made again.
  it('says the disk is too small when the packages do not fit', () => {
    const r = forge([
      'compose',
      join(REPO, 'blueprints/server.toml'),
      '--type',
      'qcow2',
      '--size',
      '300 MiB',
      '--state-dir',
      sharedStateDir(join(dir.path, 'state')),
      '--output',
      join(dir.path, 'small'),
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /No space left on device|too small/);
  });
});

/** The Linux root partition type of the qcow2 image type's GPT (x86-64 root, discoverable). */
const ROOT_GUID = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';

describe("forge compose qcow2 of debian-13 on this host: the build root is trixie's", { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let out: string;
  let store: string;
  /** The image as a raw disk, and its partitions' first bytes. */
  let raw: string;
  let biosBoot: number;
  let root: number;
  before(() => {
    dir = tempDir('forge-qcow2-13-');
    out = join(dir.path, 'out');
    const state = sharedStateDir(join(dir.path, 'state'));
    store = join(state, 'store');
    // The server blueprint's user and password on a minimal system with a serial console.
    const password = /^password = .*$/m.exec(readFileSync(join(REPO, 'blueprints/server.toml'), 'utf8'))?.[0];
    assert.ok(password, "blueprints/server.toml's password");
    const blueprint = join(dir.path, 'trixie.toml');
    writeFileSync(
      blueprint,
      'name = "trixie"\nversion = "0.0.1"\n\n[customizations]\nhostname = "forge-trixie"\n\n' +
        `[customizations.kernel]\nappend = "console=ttyS0"\n\n[[customizations.user]]\nname = "forge"\n${password}\n`,
    );
    const r = forge([
      'compose',
      blueprint,
      '--type',
      'qcow2',
      '--distro',
      'debian-13',
      '--size',
      '3 GiB',
      '--state-dir',
      state,
      '--output',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout.slice(-4000) + r.stderr);
    raw = join(dir.path, 'disk.raw');
    execFileSync('qemu-img', ['convert', '-O', 'raw', join(out, 'disk.qcow2'), raw]);
    const table = JSON.parse(execFileSync('sfdisk', ['--json', raw], { encoding: 'utf8' })) as {
      partitiontable: { partitions: { start: number; type: string }[] };
    };
    const start = (type: string) => {
      const p = table.partitiontable.partitions.find((x) => x.type === type);
      assert.ok(p, `a partition of type ${type}`);
      return p.start * 512;
    };
    biosBoot = start(BIOS_BOOT_GUID);
    root = start(ROOT_GUID);
  });
  after(() => dir.cleanup());

  it("has the build root's GRUB in /boot/grub and the BIOS boot partition, not the host's", () => {
    const grub = buildRootPackage(join(out, 'manifest.json'), store, 'grub-pc-bin');
    const files = grub.extract(join(dir.path, 'grub-pc-bin'));
    const modules = join(files, 'usr/lib/grub/i386-pc');
    const image = join(dir.path, 'i386-pc');
    execFileSync('debugfs', ['-R', `rdump /boot/grub/i386-pc ${dir.path}`, `${raw}?offset=${root}`], {
      stdio: 'ignore',
    });
    const mods = readdirSync(image).filter((f) => f.endsWith('.mod'));
    assert.ok(mods.length > 100, `${mods.length} modules in /boot/grub/i386-pc`);
    for (const mod of mods) {
      assert.deepEqual(readFileSync(join(image, mod)), readFileSync(join(modules, mod)), mod);
    }
    // normal.mod says its package's version (GRUB's `grub_version` is the Debian version).
    const normal = readFileSync(join(image, 'normal.mod'), 'latin1');
    assert.ok(normal.includes(`\0${grub.version}\0`), `normal.mod names grub-pc-bin ${grub.version}`);
    const host = hostVersion('grub-pc-bin');
    if (host && host !== grub.version) {
      assert.ok(!normal.includes(`\0${host}\0`), `normal.mod names the host's ${host}`);
    }

    // The core image: a sector of diskboot.img, then lzma_decompress.img as grub-mkimage writes it,
    // with the sizes of the compressed kernel and modules in its bytes 8-15.
    const decompressor = readFileSync(join(modules, 'lzma_decompress.img'));
    const core = Buffer.alloc(decompressor.length);
    const fd = openSync(raw, 'r');
    try {
      readSync(fd, core, 0, core.length, biosBoot + 512);
    } finally {
      closeSync(fd);
    }
    const sizesMasked = (b: Buffer) => Buffer.concat([b.subarray(0, 8), b.subarray(16)]);
    assert.deepEqual(sizesMasked(core), sizesMasked(decompressor), "the build root's lzma_decompress.img");
  });

  it('boots under BIOS', async () => {
    const vm = await bootImage({ image: join(out, 'disk.qcow2'), format: 'qcow2', firmware: 'bios' });
    assert.ok(!('skipped' in vm), 'skipped' in vm ? vm.skipped : '');
    try {
      await vm.login('forge', PASSWORD);
      const release = await vm.run('grep ^VERSION_CODENAME= /etc/os-release');
      assert.match(release.output, /^VERSION_CODENAME=trixie$/m);
      const state = await vm.run('systemctl is-system-running --wait');
      assert.match(state.output, /running|degraded/);
    } finally {
      await vm.shutdown();
    }
  });
});

/** The version of a package installed on the host, or undefined when it is not. */
function hostVersion(name: string): string | undefined {
  try {
    // `dpkg-query --show` prints the name, a tab and the version.
    return execFileSync('dpkg-query', ['--show', name], { encoding: 'utf8' }).split('\t')[1]?.trim();
  } catch {
    return undefined;
  }
}
