import { z } from 'zod';
import { defineStage, fsUuid } from '../../shared/define.ts';

export const options = z.strictObject({
  root_fs_uuid: fsUuid.optional().describe('UUID of the root file system, written as root=UUID=…'),
  kernel_opts: z.string().default('').describe('more kernel command line options'),
  kernel_cmdline_size: z
    .int()
    .min(256)
    .max(4096)
    .optional()
    .describe("longest command line accepted; the kernel's limit for the build machine when omitted"),
});

export default defineStage({
  type: 'org.osbuild.kernel-cmdline',
  summary: 'Write the kernel command line to /etc/kernel/cmdline',
  description: [
    'Writes root=UUID=<root_fs_uuid> (when given) followed by `kernel_opts` to /etc/kernel/cmdline, the',
    'file kernel-install and systemd-boot tools read, with no line end. A command line longer than',
    '`kernel_cmdline_size` (by default the kernel limit of the build machine: 2048 bytes on x86 and',
    'arm64, 1024 on arm and riscv) is refused. GRUB on Debian does not read this file: org.osbuild.grub2',
    'takes the same options for its own configuration.',
  ],
  options,
});
