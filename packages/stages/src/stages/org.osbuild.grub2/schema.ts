import { z } from 'zod';
import { defineStage, fsUuid } from '../../shared/define.ts';

const filesystem = z
  .looseObject({
    label: z.string().optional().describe('the file system label'),
    uuid: fsUuid.optional().describe('the file system UUID'),
  })
  .meta({ oneOf: [{ required: ['uuid'] }, { required: ['label'] }] })
  .describe('a file system, by UUID or by label');

const terminal = z.array(z.string()).describe('GRUB terminal names, e.g. ["serial", "console"]');

export const options = z
  .strictObject({
    compat_version: z
      .literal([1, 2])
      .default(1)
      .describe("OSBuild's bug-compatibility level; both levels write the same files here"),
    rootfs: filesystem.optional().describe('the root file system'),
    bootfs: filesystem.optional().describe('a separate /boot file system'),
    root_fs_uuid: fsUuid.optional().describe('UUID of the root file system (the same as rootfs.uuid)'),
    boot_fs_uuid: fsUuid.optional().describe('UUID of a separate /boot file system'),
    kernel_opts: z.string().default('').describe('kernel command line options besides root= and ro'),
    legacy: z
      .xor([z.boolean().default(false), z.string()])
      .optional()
      .describe(
        'BIOS (non-UEFI) boot: true or a GRUB platform (true means i386-pc); copies its modules and a font into /boot/grub',
      ),
    uefi: z
      .looseObject({
        vendor: z
          .string()
          .regex(/^(.+)$/)
          .meta({ examples: ['debian'] })
          .describe('directory under EFI/'),
        efi_src_dir: z
          .string()
          .default('/boot/efi/EFI')
          .describe('where `install` copies the EFI binaries from, in the build root'),
        install: z
          .boolean()
          .default(false)
          .describe('copy EFI/BOOT and EFI/<vendor> from efi_src_dir to /boot/efi/EFI in the tree'),
        unified: z
          .boolean()
          .default(false)
          .describe('main configuration in /boot/grub (always so on Debian)'),
      })
      .optional()
      .describe('UEFI boot: writes /boot/efi/EFI/<vendor>/grub.cfg, which loads /boot/grub/grub.cfg'),
    saved_entry: z.string().optional().describe('value of saved_entry in grubenv'),
    write_defaults: z.boolean().default(true).describe('write /etc/default/grub for update-grub'),
    write_cmdline: z
      .boolean()
      .default(true)
      .describe('record the kernel command line as kernelopts in grubenv'),
    ignition: z
      .boolean()
      .default(false)
      .describe('pass ignition.firstboot to the kernel while /boot/ignition.firstboot exists'),
    greenboot: z
      .boolean()
      .default(false)
      .describe("boot counting; refused, as Debian's GRUB has no increment module"),
    config: z
      .strictObject({
        default: z.string().optional().describe('GRUB_DEFAULT: an entry number, id or title, or saved'),
        disable_recovery: z.boolean().optional().describe('leave out the recovery mode entries'),
        disable_submenu: z.boolean().optional().describe('list every kernel at the top level'),
        distributor: z.string().optional().describe('GRUB_DISTRIBUTOR, used in entry titles'),
        terminal: terminal.optional().describe('input and output terminals'),
        terminal_input: terminal.optional().describe('input terminals'),
        terminal_output: terminal.optional().describe('output terminals'),
        timeout: z.int().min(0).default(0).describe('seconds the menu waits'),
        timeout_style: z.enum(['hidden', 'menu', 'countdown']).optional().describe('how the wait shows'),
        serial: z.string().optional().describe('GRUB command that sets up the serial port'),
      })
      .optional()
      .describe('settings of GRUB itself'),
  })
  .meta({ oneOf: [{ required: ['root_fs_uuid'] }, { required: ['rootfs'] }] });

export default defineStage({
  type: 'org.osbuild.grub2',
  summary: 'Configure GRUB 2 for a Debian tree',
  description: [
    "Takes OSBuild's options, but writes Debian's GRUB layout instead of Fedora's boot loader",
    "specification one (Debian's GRUB has no blscfg): a static /boot/grub/grub.cfg like update-grub's,",
    'with an entry for every kernel /boot/vmlinuz-<version> in the tree, newest first, its initrd',
    '(/boot/initrd.img-<version>), root=UUID= (or LABEL=) of `rootfs`, ro and `kernel_opts`; a',
    '"simple" entry plus an "Advanced options" submenu with recovery entries, unless',
    '`config.disable_submenu` or `config.disable_recovery` say otherwise. `config` sets the default',
    'entry, timeout, serial port and terminals. No loop device or build host path ends up in it.',
    '/etc/default/grub (`write_defaults`) says the same for update-grub, so that update-grub in the',
    'running system writes an equivalent configuration. /boot/grub/grubenv is written as OSBuild does',
    '(kernelopts, saved_entry).',
    '`legacy` (true or a GRUB platform, true meaning i386-pc) copies the modules of',
    '/usr/lib/grub/<platform> and the unicode font of the build root into /boot/grub, where a core image',
    'written by org.osbuild.grub2.inst with the prefix /boot/grub finds them. `uefi` writes',
    "/boot/efi/EFI/<vendor>/grub.cfg as Debian's: it finds the /boot file system and loads",
    '/boot/grub/grub.cfg (so `uefi.unified` changes nothing); `uefi.install` copies EFI/BOOT and',
    'EFI/<vendor> from `efi_src_dir` of the build root into /boot/efi/EFI.',
    '`greenboot` is refused (it needs a GRUB module only Fedora has).',
  ],
  options,
});
