/**
 * The image types, each a readable definition: what it is, its file name and MIME type, the
 * pipeline it exports, its default size and packages, and the pipelines that make it from the `os`
 * tree. osbuild-composer's pipeline names are kept: `os`, `archive` (tar), `image` (a partitioned
 * raw disk) and `qcow2`.
 */
import type { StageDesc } from './customizations.ts';
import { diskPipelines } from './disk.ts';

export interface PipelineDesc {
  name: string;
  runner?: string;
  build?: string;
  'source-epoch'?: number;
  stages: StageDesc[];
}

export interface ImageTypeContext {
  /** Image size in bytes (the default when the request gives none). */
  size: number;
  /** Seed for the UUIDs of partitions and filesystems. */
  seed: string;
  /** Kernel command line additions from the blueprint. */
  kernelAppend: string;
}

/** What an image type contributes to the `os` pipeline, and the pipelines after it. */
export interface ImageType {
  name: string;
  description: string;
  filename: string;
  mimeType: string;
  /** The pipeline whose tree holds `filename`. */
  exportPipeline: string;
  bootable: boolean;
  /** Bytes; 0 for images without a size. */
  defaultSize: number;
  /** Packages every image of this type gets, beyond the minbase system. */
  packages: string[];
  /** Stages appended to the `os` pipeline (boot configuration). */
  osStages(ctx: ImageTypeContext): StageDesc[];
  /** Pipelines after `os`. */
  pipelines(ctx: ImageTypeContext): PipelineDesc[];
}

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
  pipelines: (ctx) => [
    diskPipelines(ctx).image,
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
          options: { filename: 'disk.qcow2', format: { type: 'qcow2', compat: '1.1' } },
        },
      ],
    },
  ],
};

export const IMAGE_TYPES: readonly ImageType[] = [tar, qcow2, raw];

export function getImageType(name: string): ImageType | undefined {
  return IMAGE_TYPES.find((t) => t.name === name);
}
