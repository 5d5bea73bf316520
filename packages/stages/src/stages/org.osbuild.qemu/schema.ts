import { z } from 'zod';
import { defineStage, filesInput } from '../../shared/define.ts';

const qcow2 = z
  .strictObject({
    type: z.literal('qcow2'),
    compression: z.boolean().default(true).describe('compress the clusters'),
    compat: z.string().optional().describe('qcow2 compatibility level, such as 0.10 or 1.1'),
  })
  .describe('a qcow2 image');

const vdi = z.strictObject({ type: z.literal('vdi') }).describe('a VirtualBox vdi image');

const vmdk = z
  .strictObject({
    type: z.literal('vmdk'),
    adapter_type: z
      .enum(['ide', 'lsilogic', 'buslogic', 'legacyESX'])
      .optional()
      .describe('virtual disk adapter'),
    compat6: z.boolean().default(false).describe('write a VMDK version 6 image'),
    compression: z.boolean().default(true).describe('compress the image (sparse subformats only)'),
    subformat: z
      .enum([
        'monolithicSparse',
        'monolithicFlat',
        'twoGbMaxExtentSparse',
        'twoGbMaxExtentFlat',
        'streamOptimized',
      ])
      .optional()
      .describe('layout of the extents'),
  })
  .describe('a VMware vmdk image');

const vpc = z
  .strictObject({
    type: z.literal('vpc'),
    force_size: z
      .boolean()
      .default(true)
      .describe('keep the exact size instead of rounding it to a cylinder/head/sector geometry'),
    subformat: z.enum(['fixed', 'dynamic']).default('fixed').describe('fixed-size or growing image'),
  })
  .describe('a Virtual PC / Hyper-V vhd image');

const vhdx = z.strictObject({ type: z.literal('vhdx') }).describe('a Hyper-V vhdx image');

const raw = z.strictObject({ type: z.literal('raw') }).describe('a raw image (an addition to OSBuild)');

export const format = z.discriminatedUnion('type', [qcow2, vdi, vmdk, vpc, vhdx, raw]);

export const options = z.strictObject({
  filename: z.string().describe('name of the image to write, in the tree'),
  format: format.describe('format of the image and its format-specific options'),
});

export default defineStage({
  type: 'org.osbuild.qemu',
  summary: 'Convert a disk image to another format with qemu-img',
  description: [
    'Converts the one file of the `image` input into `filename` in the tree, in the format given',
    'by `format.type`: qcow2, vdi, vmdk, vpc, vhdx (as OSBuild) or raw (an addition).',
    'qcow2 takes `compat` and `compression`; vmdk takes `adapter_type`, `compat6`, `compression`',
    'and `subformat`; vpc takes `subformat` and `force_size`.',
    'OSBUILD_QEMU_IMG_COROUTINES in the environment sets the number of parallel coroutines.',
    'Build root commands used: `qemu-img` (Debian package qemu-utils).',
  ],
  options,
  inputs: filesInput('image'),
});
