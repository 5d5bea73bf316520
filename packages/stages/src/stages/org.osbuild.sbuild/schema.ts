import { z } from 'zod';
import { ABSOLUTE_PATH, defineStage, treeInputs } from '../../shared/define.ts';

/** A build profile's name (Debian's BuildProfileSpec): lower case, digits, `.+-`. */
export const PROFILE = /^[a-z0-9][a-z0-9.+-]*$/;

export const options = z.strictObject({
  path: z
    .string()
    .regex(ABSOLUTE_PATH)
    .optional()
    .describe(
      'the unpacked source (the directory holding debian/) in the input `source`; default the only directory in its /build, where org.osbuild.debian.source unpacks',
    ),
  'arch-all': z
    .boolean()
    .default(true)
    .describe('build the Architecture: all packages (sbuild --arch-all; dpkg-buildpackage -A)'),
  'arch-any': z
    .boolean()
    .default(true)
    .describe('build the architecture-dependent packages (sbuild --arch-any; dpkg-buildpackage -B)'),
  profiles: z
    .array(z.string().regex(PROFILE))
    .optional()
    .describe('build profiles (sbuild --profiles; dpkg-buildpackage -P, DEB_BUILD_PROFILES), e.g. nocheck'),
  'build-options': z
    .array(z.string().regex(/^[a-z0-9][a-z0-9_.+-]*(=[A-Za-z0-9_.,+:-]+)?$/))
    .optional()
    .describe('DEB_BUILD_OPTIONS words, e.g. "nocheck", "parallel=2", "noautodbgsym"'),
  binnmu: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'binNMU number (sbuild --binNMU): the binary version gets +bN, with a changelog entry; needs `binnmu-message` and `maintainer`',
    ),
  'binnmu-message': z
    .string()
    .regex(/^[^\n]+$/)
    .optional()
    .describe('the reason of the binNMU, its changelog entry’s line (sbuild --make-binNMU)'),
  'append-to-version': z
    .string()
    .regex(/^[A-Za-z0-9.+~]+$/)
    .optional()
    .describe(
      'a suffix for the binary version (sbuild --append-to-version), with a changelog entry; needs `maintainer`',
    ),
  maintainer: z
    .string()
    .regex(/^[^\n<>]+ <[^\n<>\s]+@[^\n<>\s]+>$/)
    .optional()
    .describe('"Name <address>" of the binNMU or version-suffix changelog entry (sbuild --maintainer)'),
  'binnmu-timestamp': z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'seconds since the epoch of that changelog entry (sbuild --binNMU-timestamp); default the time of the entry before it, so a rebuild gives the same bytes',
    ),
  distribution: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.+-]*$/)
    .optional()
    .describe(
      'the distribution of that changelog entry (sbuild --dist); default the one of the entry before it',
    ),
});

export default defineStage({
  type: 'org.osbuild.sbuild',
  summary: 'Build Debian binary packages from an unpacked source, as sbuild does',
  description: [
    'Builds the source package in the input `source` (a tree holding it unpacked, as',
    'org.osbuild.debian.source leaves it) with `dpkg-buildpackage` in the build environment of the',
    'input `environment` (a tree with build-essential, fakeroot and the source’s build dependencies',
    'installed, as apt resolved them when the manifest was made), and writes the `.deb`s, the',
    '`.buildinfo`, the `.changes` and the build log (`<source>_<version>_<arch>.build`) into the root',
    'of the tree. The build log goes to the stage’s output as well; a failing build fails the stage',
    'with the log’s last lines in its error, unmet build dependencies fail it before the build,',
    'naming them (dpkg-checkbuilddeps).',
    'The build runs as sbuild’s unshare mode runs it: the environment is the root (read-only, with',
    '/etc copied and given a `sbuild` user, uid 1000, hostname sbuild, 127.0.0.1 localhost) in a',
    'nested bubblewrap sandbox without network (new net, pid, ipc, uts namespaces), as that',
    'unprivileged user with no capabilities (setpriv, no new privileges), the root parts under',
    'fakeroot (`dpkg-buildpackage --sanitize-env -us -uc -rfakeroot` with -b, -B or -A, and -P for',
    'profiles), with sbuild’s environment (PATH, LC_ALL=C.UTF-8, SHELL=/bin/sh,',
    'HOME=/sbuild-nonexistent), DEB_BUILD_OPTIONS and SOURCE_DATE_EPOCH from debian/changelog',
    '(`dpkg-parsechangelog -STimestamp`). Unlike sbuild 0.85 (/build/<source>-XXXXXX) the build path',
    'is fixed, /build/reproducible-path/<source>-<upstream version>, so that a rebuild gives the',
    'same bytes; so is a binNMU entry’s date unless `binnmu-timestamp` is given (sbuild: the time of',
    'the build). OSBuild has no such stage; it is the Debian counterpart of building with Mock.',
    'Metadata: `source`, `version` (of the binaries, with a binNMU suffix), `packages` ({name,',
    'version, arch, filename}) and `files`, the names written into the tree.',
    'Needs in the build root: bubblewrap, dpkg (dpkg-deb), cp, chown; in the environment:',
    'dpkg-dev, fakeroot, util-linux (setpriv).',
  ],
  // The nested sandbox's network namespace needs its loopback brought up (bwrap --unshare-net).
  capabilities: ['CAP_NET_ADMIN'],
  options,
  inputs: treeInputs('environment', 'source'),
});
