import { z } from 'zod';
import { defineStage, patternRecord } from '../../shared/define.ts';
import { APT_KEY, KEYRING, STEM } from './names.ts';

const word = z.string().regex(/^[^\s"]+$/);
/** A value apt.conf can hold: no double quote, backslash or line break. */
const aptValue = z.union([z.string().regex(/^[^"\\\n\r]*$/), z.number(), z.boolean()]);

export const source = z.strictObject({
  types: z
    .array(z.enum(['deb', 'deb-src']))
    .min(1)
    .default(['deb'])
    .describe('kinds of archive: "deb" (binary packages), "deb-src" (sources)'),
  uris: z.array(word).min(1).describe('repository base URIs'),
  suites: z
    .array(word)
    .min(1)
    .describe('suites or code names, or one path ending in "/" for a flat repository'),
  components: z.array(word).describe('archive components such as "main"; empty for a flat repository'),
  'signed-by': z
    .string()
    .regex(/^\/[^\s"]*$/)
    .optional()
    .describe('absolute path, in the image, of the keyring that signs the repository'),
  architectures: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/))
    .min(1)
    .optional()
    .describe('restrict the source to these architectures'),
  enabled: z.boolean().optional().describe('false writes the source disabled (Enabled: no)'),
});

export const pin = z.strictObject({
  package: z
    .string()
    .regex(/^[^\n\r]+$/)
    .describe('package names, globs or /regex/, space-separated; "*" for all'),
  pin: z
    .string()
    .regex(/^[^\n\r]+$/)
    .describe('what to pin, e.g. "release n=bookworm-backports", "version 1.2*", "origin example.org"'),
  'pin-priority': z.int().describe('the priority (e.g. 990, 500, 100, -1)'),
});

export const options = z.strictObject({
  sources: patternRecord(STEM, source)
    .optional()
    .describe('deb822 sources: file stem → entry, written to /etc/apt/sources.list.d/<stem>.sources'),
  preferences: patternRecord(STEM, z.array(pin).min(1))
    .optional()
    .describe('pinning: file stem → entries, written to /etc/apt/preferences.d/<stem>'),
  config: patternRecord(STEM, patternRecord(APT_KEY, z.union([aptValue, z.array(aptValue)])))
    .optional()
    .describe('apt configuration: file stem → {item: value or list}, written to /etc/apt/apt.conf.d/<stem>'),
  keyrings: patternRecord(KEYRING, z.string().regex(/-----BEGIN PGP PUBLIC KEY BLOCK-----/))
    .optional()
    .describe('OpenPGP public keys, ASCII-armoured: file name → key, written to /etc/apt/keyrings/<name>'),
  'remove-sources-list': z.boolean().default(false).describe('delete /etc/apt/sources.list'),
});

export default defineStage({
  type: 'org.osbuild.apt.config',
  summary: 'Configure apt for the finished image',
  description: [
    "Writes the image's apt configuration, each file replacing any file of the same name:",
    '`sources` as deb822 files /etc/apt/sources.list.d/<stem>.sources (Types, URIs, Suites,',
    'Components, Signed-By, Architectures, Enabled); `preferences` as /etc/apt/preferences.d/<stem>',
    '(Package, Pin, Pin-Priority stanzas); `config` as /etc/apt/apt.conf.d/<stem> in apt.conf syntax,',
    'a list value written as a block of quoted items; `keyrings` as /etc/apt/keyrings/<name>, a',
    '`.asc` name keeping the armoured text and a `.gpg` name getting the binary key (de-armoured by',
    'the stage, its CRC-24 checked). With `remove-sources-list` the one-line /etc/apt/sources.list is',
    'deleted. Names are checked (no "/", no "..", nothing apt would ignore) and every path is resolved',
    'inside the tree. OSBuild has no such stage; it is the Debian counterpart of',
    'org.osbuild.yum.repos and org.osbuild.dnf.config. Files are mode 0644, written directly.',
  ],
  options,
});
