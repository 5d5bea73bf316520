import { z } from 'zod';
import { defineStage, filesInput } from '../../shared/define.ts';
import { PACKAGE_SPEC } from '../../shared/local-repo.ts';

/** A Debian package name, optionally `:arch` and `=version`, as apt's command line takes it. */
const packageSpec = z.string().regex(PACKAGE_SPEC);

export const options = z.strictObject({
  suite: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/)
    .describe('the Debian suite or code name the packages come from, such as "bookworm"'),
  variant: z
    .enum(['essential', 'minbase', 'required', 'important', 'standard', 'custom'])
    .default('custom')
    .describe(
      'the package set: "custom" installs exactly `packages`; the others take the Essential:yes packages ' +
        '(and those of priority required, important or standard) found in the input, plus `packages`',
    ),
  packages: z
    .array(packageSpec)
    .optional()
    .describe(
      'packages to install (name[:arch][=version]); with variant "custom" the default is every package of the input',
    ),
  arch: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/)
    .default('amd64')
    .describe('Debian architecture of the system'),
  'merged-usr': z
    .boolean()
    .default(true)
    .describe('/bin, /sbin and /lib as links into /usr (needs usr-is-merged among the input packages)'),
  'keep-apt-cache': z
    .boolean()
    .default(false)
    .describe('leave the installed .deb files in /var/cache/apt/archives'),
});

export default defineStage({
  type: 'org.osbuild.debootstrap',
  summary: 'Bootstrap a Debian base system from .deb inputs',
  description: [
    'Creates a Debian system in the empty tree from the `.deb` files of the input `packages` alone, with',
    'no network. The files are indexed as a flat, temporary apt repository (apt-ftparchive) that is',
    'trusted without a signature because every input file was checked against its pinned checksum,',
    'and mmdebstrap (root mode, in a mount namespace of its own) installs them: unpacking, dpkg',
    'configuration and maintainer scripts run in the tree. OSBuild has no such stage; this is the',
    "Debian counterpart of installing a distribution's packages into an empty tree. dpkg runs with",
    'force-unsafe-io (no fsync per file; a failed build is discarded anyway), a setting not kept in',
    'the tree.',
    'With `merged-usr` (default) the tree gets /bin, /sbin and /lib as links into /usr, as debootstrap',
    "does, using mmdebstrap's merged-usr hook; the package usr-is-merged must then be an input.",
    'Afterwards the tree has no apt lists, no package cache (unless `keep-apt-cache`), no apt source',
    'for the temporary repository, no /etc/resolv.conf or /etc/hostname from the build host, no',
    'device nodes in /dev and an empty /etc/machine-id when one exists. With a source epoch',
    '(`meta.source-epoch` of the arguments, else SOURCE_DATE_EPOCH) maintainer scripts see it as',
    'SOURCE_DATE_EPOCH and every time stamp in the tree is clamped to it, so the same inputs give the',
    'same tree.',
    'Metadata: `packages`, the installed packages ({name, version, arch}) from the dpkg status.',
    'Build root commands used: `mmdebstrap`, `apt-ftparchive` (apt-utils), `apt-get`, `dpkg`,',
    '`unshare` (util-linux).',
  ],
  options,
  inputs: filesInput('packages'),
});
