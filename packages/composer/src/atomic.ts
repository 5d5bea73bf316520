/**
 * The atomic (OSTree) image types, as osbuild-composer's edge-commit and edge-raw/iot-qcow2:
 *
 * - `debian-atomic-commit`: `os` (reshaped for OSTree at its end) → `ostree-commit` (an archive
 *   repository at /repo with the commit, its id and ref in /compose.json) → `commit-archive`
 *   (commit.tar).
 * - `debian-atomic-qcow2`: the same commit, deployed by `ostree-deployment` (stateroot `debian`,
 *   the remote `debian` at the compose's url) → `image` (the GPT disk of disk.ts) → `qcow2`.
 *
 * Booting: Debian's GRUB has no blscfg, and ostree's grub2 backend cannot write the first
 * deployment of a system root that is not booted. The deployment is made with the bootloader
 * `none` (boot loader entries only); org.osbuild.ostree.grub2.config then writes the GRUB
 * configuration of those entries and the repository is switched to the bootloader `grub2`, so each
 * later deployment (`ostree admin upgrade`, `deploy`) on the running machine runs grub-mkconfig.
 * The commit carries what that needs: /etc/grub.d/15_ostree, which takes ostree's entries and makes
 * them boot on Debian's GRUB under BIOS and UEFI (`linux`/`initrd` instead of Fedora's
 * `linux16`/`linuxefi`, paths under /boot of the root file system), and /etc/default/grub with the
 * serial console.
 */

import { type StageDesc, writeFile } from './customizations.ts';
import { diskPipelines, kernelOptions, qcow2Pipeline, rootFsUuid } from './disk.ts';
import type { Distro } from './distros.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';
import type { ImageType, ImageTypeContext, OstreeOptions, PipelineDesc } from './image-type.ts';

const GiB = 1024 ** 3;

/** The stateroot (ostree's osname) of every deployment, and the name of the update remote. */
export const ATOMIC_OSNAME = 'debian';
export const ATOMIC_REMOTE = 'debian';

/**
 * An atomic system: init, devices, the kernel with a dracut initramfs that can mount an OSTree
 * deployment (ostree-boot's dracut module), ostree itself, GRUB's files for grub-mkconfig on the
 * running machine, and basic tools. systemd-networkd brings up wired network interfaces.
 */
const ATOMIC_PACKAGES = [
  'systemd-sysv',
  'dbus',
  'udev',
  'kmod',
  'linux-image-amd64',
  'dracut',
  'ostree',
  'ostree-boot',
  'zstd',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  'grub2-common',
  'e2fsprogs',
  'dosfstools',
  'ca-certificates',
  'iproute2',
  'netbase',
  'sudo',
  'procps',
  'less',
];

/** grub-mkconfig's settings: the serial console, a short menu, no probing for other systems. */
const GRUB_DEFAULTS = `# Written by Debian Forge for an OSTree system: ostree runs grub-mkconfig for each deployment.
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX=""
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB_DISABLE_RECOVERY=true
GRUB_DISABLE_OS_PROBER=true
`;

/**
 * ostree's grub.d script (ostree-boot), adapted to Debian's GRUB: its `linux16`/`initrd16`
 * (`linuxefi` on EFI) become `linux`/`initrd`, which boot under BIOS and UEFI alike, and the paths
 * of ostree's boot loader entries, relative to the boot file system, get the /boot prefix when
 * /boot is a directory of the root file system (ostree 2022.7 has no sysroot.bootprefix).
 */
const GRUB_OSTREE_SCRIPT = `#!/bin/sh
# Written by Debian Forge: the entries of ostree's deployments for Debian's GRUB.
set -e
prefix=
if [ "\${GRUB_DEVICE_BOOT:-$GRUB_DEVICE}" = "$GRUB_DEVICE" ]; then prefix=/boot; fi
/usr/libexec/libostree/grub2-15_ostree | sed -E \\
  -e "s,^(linux|initrd)(16|efi) ,\\\\1 ," \\
  -e "s,^(linux|initrd) /,\\\\1 \${prefix}/,"
`;

const NETWORK = `# Written by Debian Forge: DHCP on every wired interface.
[Match]
Type=ether

[Network]
DHCP=yes
`;

/** The `os` stages of an atomic system; both types share them, so they share the built tree. */
function atomicOsStages(ctx: ImageTypeContext): StageDesc[] {
  return [
    ...writeFile('/etc/default/grub', GRUB_DEFAULTS, ctx.inline, '0644'),
    ...writeFile('/etc/grub.d/15_ostree', GRUB_OSTREE_SCRIPT, ctx.inline, '0755'),
    ...writeFile('/etc/systemd/network/80-forge-wired.network', NETWORK, ctx.inline, '0644'),
    { type: 'org.osbuild.systemd', options: { enabled_services: ['systemd-networkd.service'] } },
  ];
}

const REF = /^[\w.-]+(\/[\w.-]+)*$/;

export function defaultOstreeRef(distro: Distro, arch: string): string {
  return `debian/${distro.release}/${arch}/atomic`;
}

/** The compose's ref (or the default), checked, and its parent and url checked. */
export function ostreeRef(ostree: OstreeOptions, distro: Distro, arch: string): string {
  const ref = ostree.ref || defaultOstreeRef(distro, arch);
  if (!REF.test(ref)) {
    throw new ComposerError(ComposerErrorCode.Ostree, `invalid ostree ref '${ref}'`);
  }
  const { parent, url } = ostree;
  if (parent !== undefined && !/^[0-9a-f]{64}$/.test(parent)) {
    throw new ComposerError(
      ComposerErrorCode.Ostree,
      `ostree parent '${parent}' is not a commit checksum (64 hexadecimal digits)`,
    );
  }
  if (url !== undefined && !/^(https?|file):\/\/\S+$/.test(url)) {
    throw new ComposerError(ComposerErrorCode.Ostree, `ostree url '${url}' is not an http(s) or file URL`);
  }
  return ref;
}

/** `ostree-commit`: an archive repository at /repo holding the commit of the `os` tree. */
function commitPipeline(ctx: ImageTypeContext): PipelineDesc {
  return {
    name: 'ostree-commit',
    stages: [
      { type: 'org.osbuild.ostree.init', options: { mode: 'archive', path: '/repo' } },
      {
        type: 'org.osbuild.ostree.commit',
        inputs: {
          tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:os'] },
        },
        options: {
          ref: ostreeRef(ctx.ostree, ctx.distro, ctx.arch),
          os_version: ctx.distro.release,
          ...(ctx.ostree.parent ? { parent: ctx.ostree.parent } : {}),
        },
      },
    ],
  };
}

/** `ostree-deployment`: a system root with the commit deployed, bootable by GRUB. */
function deploymentPipeline(ctx: ImageTypeContext): PipelineDesc {
  const ref = ostreeRef(ctx.ostree, ctx.distro, ctx.arch);
  const url = ctx.ostree.url;
  const repo = '/ostree/repo';
  return {
    name: 'ostree-deployment',
    stages: [
      { type: 'org.osbuild.ostree.init-fs' },
      { type: 'org.osbuild.ostree.os-init', options: { osname: ATOMIC_OSNAME } },
      { type: 'org.osbuild.ostree.config', options: { repo, config: { sysroot: { bootloader: 'none' } } } },
      ...(url
        ? [{ type: 'org.osbuild.ostree.remotes', options: { repo, remotes: [{ name: ATOMIC_REMOTE, url }] } }]
        : []),
      {
        type: 'org.osbuild.ostree.deploy',
        inputs: {
          commits: {
            type: 'org.osbuild.ostree',
            origin: 'org.osbuild.pipeline',
            references: { 'name:ostree-commit': { ref } },
          },
        },
        options: {
          osname: ATOMIC_OSNAME,
          ...(url ? { remote: ATOMIC_REMOTE } : {}),
          rootfs: { uuid: rootFsUuid(ctx.seed) },
          kernel_opts: ['rw', ...kernelOptions(ctx)],
        },
      },
      {
        type: 'org.osbuild.ostree.grub2.config',
        options: {
          root_fs_uuid: rootFsUuid(ctx.seed),
          legacy: 'i386-pc',
          config: { timeout: 1, serial: 'serial --speed=115200', terminal: ['serial', 'console'] },
        },
      },
      { type: 'org.osbuild.ostree.config', options: { repo, config: { sysroot: { bootloader: 'grub2' } } } },
    ],
  };
}

/** What both types share: the system in the `os` tree, reshaped for OSTree at its end, and the ref. */
const ATOMIC_SYSTEM = {
  packages: ATOMIC_PACKAGES,
  osStages: atomicOsStages,
  osFinalStages: () => [{ type: 'org.osbuild.ostree.preptree', options: {} }],
  defaultOstreeRef,
  // The commit and the disk of one blueprint share the os tree and its commit: one build root for
  // both. (A commit has no size; the disk's pipelines are asked for the tools of a disk of its own.)
  siblingPipelines: (ctx: ImageTypeContext) => [
    ...atomicCommit.pipelines(ctx),
    ...atomicQcow2.pipelines({ ...ctx, size: ctx.size || atomicQcow2.defaultSize }),
  ],
};

export const atomicCommit: ImageType = {
  name: 'debian-atomic-commit',
  description:
    'An OSTree commit of an atomic Debian system, in its archive repository as a tar file: the update a machine pulls, or the base of an atomic disk.',
  filename: 'commit.tar',
  mimeType: 'application/x-tar',
  exportPipeline: 'commit-archive',
  bootable: false,
  defaultSize: 0,
  ...ATOMIC_SYSTEM,
  pipelines: (ctx) => [
    commitPipeline(ctx),
    {
      name: 'commit-archive',
      stages: [
        {
          type: 'org.osbuild.tar',
          inputs: {
            tree: {
              type: 'org.osbuild.tree',
              origin: 'org.osbuild.pipeline',
              references: ['name:ostree-commit'],
            },
          },
          options: { filename: 'commit.tar' },
        },
      ],
    },
  ],
};

export const atomicQcow2: ImageType = {
  name: 'debian-atomic-qcow2',
  description:
    'A bootable disk (GPT; BIOS and UEFI) in qcow2 format with an atomic Debian system deployed by OSTree: read-only /usr, /etc and /var kept across updates, updates and rollbacks with ostree admin.',
  filename: 'disk.qcow2',
  mimeType: 'application/x-qemu-disk',
  exportPipeline: 'qcow2',
  bootable: true,
  defaultSize: 4 * GiB,
  ...ATOMIC_SYSTEM,
  pipelines: (ctx) => [
    commitPipeline(ctx),
    deploymentPipeline(ctx),
    diskPipelines(ctx, 'ostree-deployment').image,
    qcow2Pipeline(),
  ],
};
