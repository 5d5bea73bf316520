/**
 * The image types, each a readable definition: what it is, its file name and MIME type, the
 * pipeline it exports, its default size and packages, and the pipelines that make it from the `os`
 * tree. osbuild-composer's pipeline names are kept: `os`, `archive` (tar), `image` (a partitioned
 * raw disk) and `qcow2`; the atomic types (atomic.ts) add `ostree-commit`, `commit-archive` and
 * `ostree-deployment`.
 */
import { atomicCommit, atomicQcow2 } from './atomic.ts';
import { diskPipelines, qcow2Pipeline } from './disk.ts';
import type { Distro } from './distros.ts';
import type { ImageType } from './image-type.ts';

const GiB = 1024 ** 3;

/** Packages of a system that boots: init, devices, kernel, bootloader files, basic tools. */
const BOOTABLE_PACKAGES = [
  'systemd-sysv',
  'dbus',
  'udev',
  'kmod',
  'linux-image-amd64',
  'initramfs-tools',
  // initramfs-tools only recommends it; without it the initramfs falls back to gzip.
  'zstd',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  'grub2-common',
  'e2fsprogs',
  'dosfstools',
  'ifupdown',
  'isc-dhcp-client',
  'netbase',
  'sudo',
  'procps',
  'less',
];

const tar: ImageType = {
  name: 'tar',
  description: 'The root file system as a tar archive, for containers, chroots and unpacking onto disks.',
  filename: 'root.tar',
  mimeType: 'application/x-tar',
  exportPipeline: 'archive',
  bootable: false,
  defaultSize: 0,
  packages: ['systemd-sysv'],
  osStages: () => [],
  pipelines: () => [
    {
      name: 'archive',
      stages: [
        {
          type: 'org.osbuild.tar',
          inputs: {
            tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:os'] },
          },
          options: { filename: 'root.tar', 'numeric-owner': true },
        },
      ],
    },
  ],
};

const raw: ImageType = {
  name: 'raw',
  description: 'A bootable disk image (GPT; BIOS and UEFI), raw.',
  filename: 'disk.raw',
  mimeType: 'application/octet-stream',
  exportPipeline: 'image',
  bootable: true,
  defaultSize: 4 * GiB,
  packages: BOOTABLE_PACKAGES,
  osStages: (ctx) => diskPipelines(ctx).osStages,
  pipelines: (ctx) => [diskPipelines(ctx).image],
};

const qcow2: ImageType = {
  name: 'qcow2',
  description: 'A bootable disk image (GPT; BIOS and UEFI) in qcow2 format, for QEMU/KVM and OpenStack.',
  filename: 'disk.qcow2',
  mimeType: 'application/x-qemu-disk',
  exportPipeline: 'qcow2',
  bootable: true,
  defaultSize: 4 * GiB,
  packages: BOOTABLE_PACKAGES,
  osStages: (ctx) => diskPipelines(ctx).osStages,
  pipelines: (ctx) => [diskPipelines(ctx).image, qcow2Pipeline()],
};

export const IMAGE_TYPES: readonly ImageType[] = [tar, qcow2, raw, atomicCommit, atomicQcow2];

export function getImageType(name: string): ImageType | undefined {
  return IMAGE_TYPES.find((t) => t.name === name);
}

/** An image type as a service lists it (osbuild/images' ImageType: name, file, MIME type, exports). */
export interface ImageTypeInfo {
  name: string;
  description: string;
  filename: string;
  mimeType: string;
  exports: string[];
  bootable: boolean;
  /** Bytes; 0 for images without a size. */
  defaultSize: number;
  /** Whether a compose of this type makes an OSTree commit and so takes a ref (and parent, url). */
  ostree: boolean;
  /** The ref a compose for this distro and architecture gets when it names none. */
  defaultOstreeRef?: string;
}

/** The image types a distro offers for an architecture (every type, for every distro today). */
export function listImageTypes(distro: Distro, arch = 'x86_64'): ImageTypeInfo[] {
  if (!distro.arches[arch]) return [];
  return IMAGE_TYPES.map((t) => ({
    name: t.name,
    description: t.description,
    filename: t.filename,
    mimeType: t.mimeType,
    exports: [t.exportPipeline],
    bootable: t.bootable,
    defaultSize: t.defaultSize,
    ostree: t.defaultOstreeRef !== undefined,
    ...(t.defaultOstreeRef ? { defaultOstreeRef: t.defaultOstreeRef(distro, arch) } : {}),
  }));
}
