import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { PACKAGE_SPEC } from '../../shared/local-repo.ts';

/** A Debian package name, optionally `:arch` and `=version`, as apt's command line takes it. */
const packageSpec = z.string().regex(PACKAGE_SPEC);

export const options = z.strictObject({
  packages: z
    .array(packageSpec)
    .min(1)
    .describe('packages to install (name[:arch][=version]); their dependencies come from the input too'),
  recommends: z.boolean().default(false).describe('install recommended packages as well'),
  'apt-options': z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:_.+/-]*=[^\n]*$/))
    .optional()
    .describe('apt configuration as `-o` takes it ("Name::Sub=value"), applied last'),
});

export default defineStage({
  type: 'org.osbuild.apt',
  summary: 'Install Debian packages from .deb inputs',
  description: [
    'Installs `packages` into the tree (a Debian system with dpkg, as org.osbuild.debootstrap makes it)',
    'from the `.deb` files of the input `packages`, with no network: the files become a temporary,',
    'trusted flat repository (every one was checked against its pinned checksum), and apt resolves',
    'the dependencies among them and what the tree already has, orders them and runs dpkg inside the',
    'tree (DPkg::Chroot-Directory), so maintainer scripts and triggers run there. OSBuild has no such',
    'stage; this is the Debian counterpart of org.osbuild.rpm.',
    'apt runs in a bubblewrap namespace of its own with /proc, /dev, a read-only /sys and fresh /run',
    'and /tmp mounted in the tree, all gone when it ends (processes left running too). A kernel',
    'package leaves /boot/vmlinuz-* and /boot/initrd.img-*: its initramfs hook (initramfs-tools or',
    'dracut) is told INITRD=No during apt and run once afterwards, when every package and initramfs',
    'hook is configured, instead of twice (hook and trigger) as in a plain apt run. A policy-rc.d',
    'that refuses every action keeps services from starting; debconf is non-interactive and conffiles',
    'that exist keep their content (--force-confdef, --force-confold); dpkg skips fsync',
    '(--force-unsafe-io).',
    'Recommended packages are left out unless `recommends` is true.',
    'Any other input is an org.osbuild.tree (such as the tree of an org.osbuild.sbuild pipeline):',
    'the `.deb` files at its top join the flat repository, so packages built in the same manifest',
    'install with their dependencies from `packages` (which may then be absent). Before anything is',
    'installed apt simulates the installation: a dependency found neither in the inputs nor in the',
    "tree fails the stage with apt's words naming it.",
    'Afterwards no apt lists, downloaded packages or apt caches are left in the tree. The logs that',
    'record times (dpkg.log, alternatives.log, apt history) are as before the stage, ldconfig aux-cache',
    'is removed and an /etc/machine-id written by a package is emptied. With a source epoch',
    '(`meta.source-epoch`, else SOURCE_DATE_EPOCH) maintainer scripts see it and every newer time',
    'stamp in the tree is clamped to it.',
    'Metadata: `packages`, every installed package ({name, version, arch}) from the dpkg status.',
    'Build root commands used: `apt-get`, `apt-ftparchive` (apt-utils), `bwrap` (bubblewrap), `chroot`.',
  ],
  options,
  inputs: {
    type: 'object',
    properties: { packages: { type: 'object', additionalProperties: true } },
    additionalProperties: {
      type: 'object',
      additionalProperties: true,
      required: ['type'],
      properties: { type: { enum: ['org.osbuild.tree'] } },
    },
  },
});
