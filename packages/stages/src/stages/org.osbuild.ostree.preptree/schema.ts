import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';

export const options = z.strictObject({
  etc_group_members: z
    .array(z.string())
    .optional()
    .describe('accepted for OSBuild manifests; every group stays in /etc/group here (see the description)'),
  'initramfs-args': z
    .array(z.string())
    .optional()
    .describe('extra arguments for dracut when the tree has dracut'),
  'tmp-is-dir': z
    .boolean()
    .default(true)
    .describe('keep /tmp a directory (mode 1777) instead of a link to sysroot/tmp'),
});

export default defineStage({
  type: 'org.osbuild.ostree.preptree',
  summary: 'Reshape a Debian tree into the OSTree layout',
  description: [
    'The Debian counterpart of OSBuild’s stage, which runs `rpm-ostree compose postprocess`: Debian has no',
    'rpm-ostree, so the tree is reshaped here directly, following ostree’s “adapting existing” guide.',
    'Kernels: /boot/vmlinuz-VERSION goes to /usr/lib/modules/VERSION/vmlinuz (config and System.map beside',
    'it; modules under a non-merged /lib/modules move to /usr/lib/modules). When the tree has dracut, the',
    'initramfs is rebuilt in the tree (chroot) with `dracut --no-hostonly --add ostree` plus',
    '`initramfs-args` into /usr/lib/modules/VERSION/initramfs.img; otherwise /boot/initrd.img-VERSION is',
    'moved there as it is (an initramfs-tools image cannot boot an OSTree deployment: install dracut and',
    'ostree-boot). The /vmlinuz and /initrd.img links go.',
    'Users: /etc/passwd and /etc/group are also written as /usr/lib/sysusers.d/ostree-preptree.conf, so',
    'systemd-sysusers adds users and groups of a newer commit to an /etc that ostree’s three-way merge',
    'kept from an older one (Debian has no nss-altfiles, so `etc_group_members` has no effect). A',
    'machine-id is emptied. /etc then moves to /usr/etc.',
    '/var: the dpkg database moves to /usr/lib/sysimage/dpkg, which /var/lib/dpkg links to, so it',
    'always describes the deployed, read-only /usr. The contents of /home, /root, /opt, /srv, /mnt and',
    '/usr/local move to var/home, var/roothome, var/opt, var/srv, var/mnt and var/usrlocal, and those',
    'names become links into /var (/media a link to run/media; it must be empty). Everything under /var',
    'then moves to /usr/share/factory/var and /usr/lib/tmpfiles.d/ostree-preptree-var.conf recreates it',
    'at boot: `d` lines for directories (mode and owner by number), `L` for links, `C` copies for files;',
    'device nodes, FIFOs and sockets are dropped. /var is left empty.',
    'Toplevel: /dev, /proc, /sys and /run are emptied, /sysroot created, /ostree links to',
    'sysroot/ostree, /tmp is an empty directory of mode 1777 (or a link to sysroot/tmp when `tmp-is-dir`',
    'is false).',
  ],
  options,
});
