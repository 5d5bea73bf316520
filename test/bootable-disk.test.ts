/**
 * A Debian disk image that boots under BIOS and under UEFI: the manifest of bootable-disk.ts (its
 * pipeline layout is described there) built by `forge build` from the stages of this repository,
 * then booted twice in QEMU (TCG), logged into on the serial console and checked from inside.
 *
 * Needs root (bubblewrap, loop devices, mounts), mmdebstrap and the network to a Debian mirror
 * for the first run (the mirror comes from the host's apt sources); booting needs QEMU and OVMF.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  bootableDiskManifest,
  DISK_SECTORS,
  ESP_UUID,
  ensureRootfs,
  HOSTNAME,
  ROOT_PASSWORD,
  ROOT_UUID,
} from './bootable-disk.ts';
import { forge, LIBDIR, sandboxUnavailable, tempDir, writeJson } from './engine-helpers.ts';
import { bootImage } from './vm.ts';

const NEEDED_STAGES = [
  'org.osbuild.untar',
  'org.osbuild.fstab',
  'org.osbuild.grub2',
  'org.osbuild.truncate',
  'org.osbuild.sfdisk',
  'org.osbuild.mkfs.fat',
  'org.osbuild.mkfs.ext4',
  'org.osbuild.copy',
  'org.osbuild.grub2.inst',
  'org.osbuild.grub2.efi',
  'org.osbuild.qemu',
];

function unavailable(): string | undefined {
  const sandbox = sandboxUnavailable();
  if (sandbox) return sandbox;
  if (spawnSync('mmdebstrap', ['--version']).error) return 'needs mmdebstrap';
  const missing = NEEDED_STAGES.filter((s) => !existsSync(join(LIBDIR, 'stages', s)));
  if (missing.length > 0) {
    return `the libdir lacks ${missing.join(', ')}: run npm run build -w @debian-forge/stages`;
  }
  return undefined;
}

const skip = unavailable();
if (skip) console.log(`# skipping the bootable disk test: ${skip}`);

describe('a bootable Debian disk image', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let qcow2: string;
  const timings: string[] = [];

  before(() => {
    dir = tempDir('forge-bootable-');
    const rootfs = ensureRootfs();
    timings.push(
      rootfs.cached
        ? `root file system tarball: cached (${rootfs.path})`
        : `root file system tarball: mmdebstrap ${rootfs.seconds.toFixed(1)} s`,
    );
    const manifest = writeJson(
      join(dir.path, 'disk.json'),
      bootableDiskManifest({ url: `file://${rootfs.path}`, sha256: rootfs.sha256 }),
    );
    const started = Date.now();
    const r = forge([
      'build',
      manifest,
      '--libdir',
      LIBDIR,
      '--store',
      join(dir.path, 'store'),
      '--export',
      'qcow2',
      '--output-directory',
      join(dir.path, 'out'),
    ]);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.status, 0, `forge build failed:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`);
    timings.push(`forge build (os, image, qcow2): ${seconds.toFixed(1)} s`);
    // The slow stages, from the build log.
    let stage = '';
    for (const line of r.stdout.split('\n')) {
      const started = /^\[\d+\/\d+\] (\S+):/.exec(line);
      if (started?.[1]) stage = started[1];
      const took = /Duration: ([\d.]+)s/.exec(line);
      if (took?.[1] && Number(took[1]) >= 2) timings.push(`  ${stage}: ${took[1]} s`);
    }
    qcow2 = join(dir.path, 'out', 'qcow2', 'disk.qcow2');
  });

  after(() => {
    for (const line of timings) console.log(`# ${line}`);
    dir?.cleanup();
  });

  it('builds a qcow2 image', () => {
    assert.ok(statSync(qcow2).size > 100 * 1024 * 1024);
    const info = JSON.parse(
      spawnSync('qemu-img', ['info', '--output=json', qcow2], { encoding: 'utf8' }).stdout,
    ) as { format: string; 'virtual-size': number };
    assert.equal(info.format, 'qcow2');
    assert.equal(info['virtual-size'], DISK_SECTORS * 512);
  });

  for (const firmware of ['bios', 'uefi'] as const) {
    it(`boots under ${firmware === 'bios' ? 'BIOS (SeaBIOS)' : 'UEFI (OVMF)'} to a login on the serial console`, async (t) => {
      const vm = await bootImage({
        image: qcow2,
        format: 'qcow2',
        firmware,
        name: `bootable-disk-${firmware}`,
      });
      if ('skipped' in vm) return t.skip(vm.skipped);
      try {
        const { promptSeconds } = await vm.login('root', ROOT_PASSWORD);
        timings.push(`${firmware} boot to the login prompt: ${promptSeconds.toFixed(1)} s`);

        const cmdline = await vm.run('cat /proc/cmdline');
        assert.match(cmdline.output, new RegExp(`(^| )root=UUID=${ROOT_UUID}( |$)`, 'm'));
        assert.match(cmdline.output, / console=ttyS0,115200n8/);
        assert.doesNotMatch(cmdline.output, /loop/);

        const root = await vm.run('findmnt -n -o FSTYPE,UUID,OPTIONS /');
        assert.equal(root.exitCode, 0);
        assert.match(root.output, new RegExp(`^ext4 +${ROOT_UUID} +rw`));

        const efi = await vm.run('[ -d /sys/firmware/efi ]');
        assert.equal(efi.exitCode, firmware === 'uefi' ? 0 : 1, `/sys/firmware/efi under ${firmware}`);

        const esp = await vm.run('findmnt -n -o FSTYPE,UUID /boot/efi');
        assert.match(esp.output, new RegExp(`^vfat +${ESP_UUID}`));
        const loader = await vm.run('ls /boot/efi/EFI/BOOT/ /boot/efi/EFI/debian/');
        assert.match(loader.output, /BOOTX64\.EFI/);
        assert.match(loader.output, /grubx64\.efi/);

        const hostname = await vm.run('hostname');
        assert.equal(hostname.output.trim(), HOSTNAME);
        const state = await vm.run('systemctl is-system-running --wait; systemctl --failed --no-legend');
        assert.match(state.output, /^(running|degraded)/, state.output);
        t.diagnostic(`system state under ${firmware}: ${state.output.trim().replace(/\n/g, ' | ')}`);

        if (firmware === 'bios') {
          // update-grub in the running system writes the same kernel command lines as the stage.
          const mkconfig = await vm.run('grub-mkconfig -o /tmp/update-grub.cfg 2>&1');
          assert.equal(mkconfig.exitCode, 0, mkconfig.output);
          const lines = (file: string) =>
            `grep -E '^[[:space:]]*(linux|initrd)[[:space:]]' ${file} | sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//'`;
          const ours = await vm.run(lines('/boot/grub/grub.cfg'));
          const theirs = await vm.run(lines('/tmp/update-grub.cfg'));
          assert.ok(ours.output.trim().length > 0);
          assert.equal(ours.output, theirs.output);
        }
      } finally {
        await vm.shutdown();
      }
    });
  }
});
