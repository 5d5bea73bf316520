/**
 * A Debian disk image that boots under BIOS and under UEFI: built by `forge build` from an OSBuild
 * manifest and the stages of this repository, then booted twice in QEMU (TCG), logged into on the
 * serial console and checked from inside.
 *
 * Pipeline layout (the one the qcow2 and raw image types follow):
 *
 *   os     org.osbuild.untar       the Debian root file system (here a tarball made once with
 *                                   mmdebstrap and cached; an image type installs packages instead)
 *          org.osbuild.fstab       / and /boot/efi by file system UUID
 *          org.osbuild.grub2       /boot/grub/grub.cfg (root=UUID=…, serial console), /etc/default/grub,
 *                                   BIOS modules in /boot/grub/i386-pc (legacy), EFI/debian/grub.cfg (uefi)
 *   image  org.osbuild.truncate    disk.raw, 2 GiB
 *          org.osbuild.sfdisk      GPT: p1 BIOS boot (1 MiB at sector 2048), p2 ESP (100 MiB), p3 root (rest)
 *          org.osbuild.mkfs.fat    on p2 through a loopback device with start and size
 *          org.osbuild.mkfs.ext4   on p3 (loopback), with the root UUID the os pipeline names
 *          org.osbuild.copy        the os tree into p3, mounted as ext4
 *          org.osbuild.grub2.inst  boot.img into the MBR, core.img into p1, prefix (,gpt3)/boot/grub
 *          org.osbuild.grub2.efi   EFI/BOOT/BOOTX64.EFI and EFI/debian/grubx64.efi into p2, with mtools
 *   qcow2  org.osbuild.qemu        disk.raw → disk.qcow2
 *
 * Needs root (bubblewrap, loop devices, mounts), mmdebstrap and the network to a Debian mirror
 * for the first run (the mirror comes from the host's apt sources); booting needs QEMU and OVMF.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { debianRepositories } from '@debian-forge/apt';
import { forge, LIBDIR, sandboxUnavailable, tempDir, writeJson } from './engine-helpers.ts';
import { bootImage } from './vm.ts';

const SUITE = 'bookworm';
const ROOT_PASSWORD = 'forge';
const HOSTNAME = 'forge-boot';
const INCLUDE = [
  'systemd-sysv',
  'udev',
  'kmod',
  'linux-image-amd64',
  'initramfs-tools',
  'e2fsprogs',
  // Not needed to boot: lets the test run update-grub in the image and compare.
  'grub2-common',
];

/** The disk: sectors of 512 bytes. */
const DISK_SECTORS = (2 * 1024 ** 3) / 512;
const BIOS_BOOT = { start: 2048, size: 2048 };
const ESP = { start: 4096, size: 204800 };
const ROOT_START = ESP.start + ESP.size;
/** The root partition ends before the backup GPT (33 sectors at the end of the disk). */
const ROOT = { start: ROOT_START, size: DISK_SECTORS - 34 - ROOT_START + 1 };
const ROOT_UUID = 'b3c6e1d2-7f4a-4c5b-9e8d-1a2b3c4d5e6f';
const ESP_VOLID = '7B7795E7';
const ESP_UUID = '7B77-95E7';
const KERNEL_OPTS = 'console=ttyS0,115200n8';

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

/** One-line apt sources for the suite, from the host's Debian repositories. */
function mirrorLines(): string[] {
  return debianRepositories(SUITE).flatMap((repo) =>
    repo.uris.flatMap((uri) =>
      repo.suites.map((suite) => {
        const key = repo.signedBy?.startsWith('/') ? `[signed-by=${repo.signedBy}] ` : '';
        return `deb ${key}${uri} ${suite} ${repo.components.join(' ')}`;
      }),
    ),
  );
}

interface Rootfs {
  path: string;
  sha256: string;
  cached: boolean;
  seconds: number;
}

/**
 * The root file system tarball, made with mmdebstrap once and kept in the temporary directory
 * under a name derived from everything that goes into it.
 */
function ensureRootfs(): Rootfs {
  const started = Date.now();
  const mirrors = mirrorLines();
  const argv = [
    '--variant=minbase',
    '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
    `--include=${INCLUDE.join(',')}`,
    `--customize-hook=echo root:${ROOT_PASSWORD} | chroot "$1" chpasswd`,
    `--customize-hook=echo ${HOSTNAME} > "$1/etc/hostname"`,
    SUITE,
  ];
  const key = createHash('sha256').update(JSON.stringify({ argv, mirrors })).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `forge-bootable-rootfs-${key}.tar.zst`);
  let cached = existsSync(path);
  if (!cached) {
    const partial = `${path}.partial-${process.pid}.tar.zst`;
    const r = spawnSync('mmdebstrap', [...argv.slice(0, -1), SUITE, partial, ...mirrors], {
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`mmdebstrap failed (${r.status ?? r.signal}):\n${r.stderr?.slice(-4000)}`);
    }
    renameSync(partial, path);
    cached = false;
  }
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  return { path, sha256, cached, seconds: (Date.now() - started) / 1000 };
}

/** The manifest: see the layout at the top of this file. */
export function bootableDiskManifest(rootfs: { url: string; sha256: string }) {
  const checksum = `sha256:${rootfs.sha256}`;
  const loop = (part: { start: number; size: number }) => ({
    type: 'org.osbuild.loopback',
    options: { filename: 'disk.raw', start: part.start, size: part.size },
  });
  return {
    version: '2',
    pipelines: [
      {
        name: 'os',
        stages: [
          {
            type: 'org.osbuild.untar',
            inputs: {
              file: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [checksum] },
            },
          },
          {
            type: 'org.osbuild.fstab',
            options: {
              filesystems: [
                { uuid: ROOT_UUID, vfs_type: 'ext4', path: '/', options: 'defaults', passno: 1 },
                { uuid: ESP_UUID, vfs_type: 'vfat', path: '/boot/efi', options: 'umask=0077', passno: 2 },
              ],
            },
          },
          {
            type: 'org.osbuild.grub2',
            options: {
              root_fs_uuid: ROOT_UUID,
              kernel_opts: KERNEL_OPTS,
              legacy: 'i386-pc',
              uefi: { vendor: 'debian' },
              config: {
                timeout: 1,
                serial: 'serial --unit=0 --speed=115200',
                terminal_input: ['serial', 'console'],
                terminal_output: ['serial', 'console'],
              },
            },
          },
        ],
      },
      {
        name: 'image',
        stages: [
          {
            type: 'org.osbuild.truncate',
            options: { filename: 'disk.raw', size: String(DISK_SECTORS * 512) },
          },
          {
            type: 'org.osbuild.sfdisk',
            options: {
              label: 'gpt',
              uuid: 'D209C89E-EA5E-4FBD-B161-B461CCE297E0',
              partitions: [
                {
                  ...BIOS_BOOT,
                  type: '21686148-6449-6E6F-744E-656564454649',
                  uuid: 'FAC7F1FB-3E8D-4137-A512-961DE09A5549',
                  name: 'BIOS-BOOT',
                },
                {
                  ...ESP,
                  type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
                  uuid: '68B2905B-DF3E-4FB3-80FA-49D1E773AA33',
                  name: 'EFI-SYSTEM',
                },
                {
                  ...ROOT,
                  type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
                  uuid: '6264D520-3FB9-423F-8AB8-7A0A8E3D3562',
                  name: 'root',
                },
              ],
            },
            devices: { device: { type: 'org.osbuild.loopback', options: { filename: 'disk.raw' } } },
          },
          {
            type: 'org.osbuild.mkfs.fat',
            options: { volid: ESP_VOLID, label: 'ESP', 'fat-size': 32 },
            devices: { device: loop(ESP) },
          },
          {
            type: 'org.osbuild.mkfs.ext4',
            options: { uuid: ROOT_UUID, label: 'root' },
            devices: { device: loop(ROOT) },
          },
          {
            type: 'org.osbuild.copy',
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:os'] },
            },
            options: { paths: [{ from: 'input://tree/', to: 'mount://root/' }] },
            devices: { root: loop(ROOT) },
            mounts: [{ name: 'root', type: 'org.osbuild.ext4', source: 'root', target: '/' }],
          },
          {
            type: 'org.osbuild.grub2.inst',
            options: {
              filename: 'disk.raw',
              platform: 'i386-pc',
              location: BIOS_BOOT.start,
              core: { type: 'mkimage', partlabel: 'gpt', filesystem: 'ext4' },
              prefix: { type: 'partition', partlabel: 'gpt', number: 2, path: '/boot/grub' },
            },
          },
          {
            type: 'org.osbuild.grub2.efi',
            options: { filename: 'disk.raw', ...ESP, root_fs_uuid: ROOT_UUID, vendor: 'debian' },
          },
        ],
      },
      {
        name: 'qcow2',
        stages: [
          {
            type: 'org.osbuild.qemu',
            inputs: {
              image: {
                type: 'org.osbuild.files',
                origin: 'org.osbuild.pipeline',
                references: { 'name:image': { file: 'disk.raw' } },
              },
            },
            options: { filename: 'disk.qcow2', format: { type: 'qcow2' } },
          },
        ],
      },
    ],
    sources: { 'org.osbuild.curl': { items: { [checksum]: { url: rootfs.url } } } },
  };
}

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
