import { z } from 'zod';
import { ABSOLUTE_PATH, defineStage, filesInput } from '../../shared/define.ts';

export const options = z.strictObject({
  dsc: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .describe('the .dsc to unpack: its reference (sha256:…) in the input `sources`'),
  path: z
    .string()
    .regex(ABSOLUTE_PATH)
    .optional()
    .describe(
      'the directory of the tree to unpack into; it must not exist, its parents are made. Default /build/<source>-<upstream version>',
    ),
  keyring: z
    .union([z.string().regex(/-----BEGIN PGP PUBLIC KEY BLOCK-----/), z.string().regex(ABSOLUTE_PATH)])
    .optional()
    .describe(
      'OpenPGP public keys the .dsc must be signed by: an ASCII-armoured key block, or a keyring file in the build root (binary or armoured); without it the signature is not checked',
    ),
});

export default defineStage({
  type: 'org.osbuild.debian.source',
  summary: 'Unpack a Debian source package into the tree',
  description: [
    'Unpacks the source package whose `.dsc` is `dsc` in the input `sources` (an org.osbuild.files',
    'input holding the `.dsc` and every file it lists, each by its `sha256:` reference, as the',
    'manifest pins them) into `path` with `dpkg-source -x`, quilt patches applied, no network.',
    'Before anything is unpacked the stage checks the `.dsc` against its own reference, reads it',
    'strictly (one paragraph; Checksums-Sha256 required and listing the same plain file names as',
    'Files), and checks every listed file’s size and SHA256 against it; a mismatch names the file.',
    'With `keyring`, the `.dsc` must carry a signature `gpgv` verifies with those keys, and only the',
    'signed text is used from then on. OSBuild has no such stage; it is the first half of the Debian',
    'counterpart of building RPMs with Mock (org.osbuild.sbuild builds what it unpacks).',
    'Needs in the build root: dpkg-dev (dpkg-source), gpgv when `keyring` is given, and what the',
    'source formats need: tar, xz-utils, gzip, bzip2, patch (3.0 (quilt), 1.0 diffs).',
  ],
  options,
  inputs: filesInput('sources'),
});
