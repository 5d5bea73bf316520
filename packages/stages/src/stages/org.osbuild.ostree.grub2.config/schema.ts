import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  root_fs_uuid: z.string().describe('UUID of the file system that holds /boot (the system root)'),
  legacy: z
    .string()
    .optional()
    .describe('a GRUB platform (such as i386-pc) whose modules go to /boot/grub/<platform>'),
  config: z
    .strictObject({
      timeout: z.number().int().min(0).default(1).describe('seconds the menu waits'),
      serial: z.string().optional().describe('the GRUB serial command, such as `serial --speed=115200`'),
      terminal: z
        .array(z.enum(['console', 'serial', 'gfxterm']))
        .optional()
        .describe('terminals for input and output'),
    })
    .optional()
    .describe('the menu settings, as /etc/default/grub of the deployment gives them to grub-mkconfig'),
});

export default defineStage({
  type: 'org.osbuild.ostree.grub2.config',
  summary: 'GRUB configuration of the OSTree deployments of a system root, for Debian’s GRUB',
  description: [
    'A Debian Forge stage (OSBuild boots OSTree deployments with the BLS support of Fedora’s GRUB, which',
    'Debian’s lacks). The tree is an OSTree system root with deployments made with `sysroot.bootloader`',
    '`none`; /boot/loader points to the boot loader entries (loader.N/entries/*.conf). For each entry,',
    'newest first, a menu entry is written to /boot/loader.N/grub.cfg that finds the file system',
    '`root_fs_uuid` and boots the entry’s kernel, initramfs and options with `linux` and `initrd`',
    '(which work under BIOS and UEFI); the paths of the entries are prefixed with /boot, a directory',
    'of that file system. /boot/grub/grub.cfg becomes a link to ../loader/grub.cfg, so GRUB follows',
    'ostree’s atomic switch of /boot/loader. `legacy` copies the GRUB modules of that platform and the',
    'unicode font of the build root to /boot/grub, for a core image with the prefix /boot/grub.',
    'Later deployments made on the running system with `sysroot.bootloader` `grub2` rewrite',
    '/boot/loader.N/grub.cfg with grub-mkconfig; the menu written here is the same as the one',
    'grub-mkconfig writes with the /etc/grub.d/15_ostree of the debian-atomic image types.',
  ],
  options,
});
