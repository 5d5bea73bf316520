/**
 * A Debian disk image that boots under BIOS and under UEFI, as an OSBuild manifest of this
 * repository's stages, and the root file system it starts from. Used by bootable-disk.test.ts,
 * which builds it with `forge build` and boots it in QEMU.
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
 * Partition and file system identifiers are fixed, so the os pipeline can name them before the
 * disk exists; root= is always UUID=, never a device of the build host.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianRepositories } from '@debian-forge/apt';

export const SUITE = 'bookworm';
export const ROOT_PASSWORD = 'forge';
export const HOSTNAME = 'forge-boot';
export const INCLUDE = [
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
export const DISK_SECTORS = (2 * 1024 ** 3) / 512;
export const BIOS_BOOT = { start: 2048, size: 2048 };
export const ESP = { start: 4096, size: 204800 };
const ROOT_START = ESP.start + ESP.size;
/** The root partition ends before the backup GPT (33 sectors at the end of the disk). */
export const ROOT = { start: ROOT_START, size: DISK_SECTORS - 34 - ROOT_START + 1 };
export const ROOT_UUID = 'b3c6e1d2-7f4a-4c5b-9e8d-1a2b3c4d5e6f';
export const ESP_VOLID = '7B7795E7';
export const ESP_UUID = '7B77-95E7';
export const KERNEL_OPTS = 'console=ttyS0,115200n8';

/** One-line apt sources for the suite, from the host's Debian repositories. */
export function mirrorLines(): string[] {
  return debianRepositories(SUITE).flatMap((repo) =>
    repo.uris.flatMap((uri) =>
      repo.suites.map((suite) => {
        const key = repo.signedBy?.startsWith('/') ? `[signed-by=${repo.signedBy}] ` : '';
        return `deb ${key}${uri} ${suite} ${repo.components.join(' ')}`;
      }),
    ),
  );
}

export interface Rootfs {
  path: string;
  sha256: string;
  cached: boolean;
  seconds: number;
}

/**
 * The root file system tarball, made with mmdebstrap once and kept in the temporary directory
 * under a name derived from everything that goes into it.
 */
export function ensureRootfs(): Rootfs {
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
