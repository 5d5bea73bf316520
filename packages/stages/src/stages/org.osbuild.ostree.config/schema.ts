import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  repo: z.string().describe('the repository in the tree, such as /ostree/repo'),
  config: z
    .strictObject({
      sysroot: z
        .strictObject({
          bootloader: z
            .enum(['none', 'auto', 'grub2', 'syslinux', 'uboot', 'zipl', 'aboot'])
            .optional()
            .describe('the bootloader ostree writes entries for; `none` writes only BLS entries'),
          bootprefix: z.boolean().optional().describe('prefix the paths of boot entries with /boot'),
          readonly: z.boolean().optional().describe('mount the system root and /boot read-only'),
          'bls-append-except-default': z
            .string()
            .optional()
            .describe(
              'kernel arguments (`key1=value1;key2=value2`) for every boot entry but the default one',
            ),
        })
        .optional()
        .describe('the `sysroot` group of the repository configuration'),
    })
    .optional()
    .describe('configuration groups to set'),
});

export default defineStage({
  type: 'org.osbuild.ostree.config',
  summary: 'Set configuration keys of an OSTree repository',
  description: [
    'Sets the keys given under `config` in the configuration of the repository `repo` of the tree with',
    '`ostree config set`: sysroot.bootloader, sysroot.bootprefix, sysroot.readonly and',
    'sysroot.bls-append-except-default. Debian’s GRUB has no BLS support and ostree’s grub2 backend fails',
    'on a first deployment, so Debian systems use `bootloader: none` and boot the BLS entries.',
  ],
  options,
});
