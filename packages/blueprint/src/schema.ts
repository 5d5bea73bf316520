/**
 * The blueprint in osbuild-composer's format (github.com/osbuild/blueprint, WELDR-API.md §2) as a
 * zod schema, with the same keys, adapted to Debian: package names are Debian package names,
 * package versions are Debian version constraints, and custom repositories are apt repositories.
 *
 * Keys are declared in the order of composer's Go structs, so a parsed blueprint serialises (JSON,
 * TOML) in composer's order. Unknown keys are rejected. Sizes ("2 GiB") become byte counts and an
 * empty package version disappears, as they do when composer reads a blueprint.
 */
import { isValidDebianVersion } from '@debian-forge/debian-version';
import { z } from 'zod';
import { BlueprintError, type BlueprintIssue, type JsonPath } from './errors.ts';
import { constraintProblem } from './package-versions.ts';
import { semverProblem } from './semver.ts';
import { parseDataSize } from './sizes.ts';

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** A problem found by a hand-written check; becomes a zod issue at the checked value. */
class Problem {
  constructor(readonly message: string) {}
}

/** Describes a value for messages: `an integer (5)`, `a string ("x")`, `a list`, … */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  if (typeof v === 'number') return Number.isInteger(v) ? `an integer (${v})` : `a number (${v})`;
  if (typeof v === 'bigint') return `an integer (${v})`;
  if (typeof v === 'boolean') return `a boolean (${v})`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a table';
  return typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A value checked by `fn`, which returns the output or a Problem. The key may be missing: then the
 * result is undefined, or, when `missing` is given, that message is reported.
 */
function checked<T>(fn: (v: unknown) => T | Problem, missing?: string) {
  const present = z.unknown().transform((v, ctx): T => {
    const r = fn(v);
    if (r instanceof Problem) {
      ctx.addIssue({ code: 'custom', message: r.message, input: v });
      return z.NEVER;
    }
    return r;
  });
  return present.optional().transform((v, ctx): T => {
    if (v === undefined && missing !== undefined) {
      ctx.addIssue({ code: 'custom', message: missing, input: v });
      return z.NEVER;
    }
    return v as T;
  });
}

/** A string with an extra rule; the rule's message names the value. */
function text(rule?: (s: string) => string | undefined) {
  const base = z.string();
  if (!rule) return base;
  return base.superRefine((s, ctx) => {
    const m = rule(s);
    if (m !== undefined) ctx.addIssue({ code: 'custom', message: m, input: s });
  });
}

const optText = (rule?: (s: string) => string | undefined) => text(rule).optional();
const optBool = () => z.boolean().optional();
const textList = (rule?: (s: string) => string | undefined) => z.array(text(rule));

function nonNegativeInt(what: string) {
  return z
    .number()
    .int()
    .superRefine((n, ctx) => {
      if (n < 0)
        ctx.addIssue({ code: 'custom', message: `${what} must not be negative, got ${n}`, input: n });
    });
}

const notEmpty = (what: string) => (s: string) => (s === '' ? `${what} must not be empty` : undefined);

/** A size: an integer number of bytes or a string like "2 GiB"; becomes bytes. */
function sizeValue(what: string) {
  return (v: unknown): number | Problem => {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) {
        return new Problem(`${what} must be a whole number of bytes, got ${describeValue(v)}`);
      }
      return v;
    }
    if (typeof v === 'string') {
      try {
        return parseDataSize(v);
      } catch (e) {
        return new Problem((e as Error).message);
      }
    }
    return new Problem(
      `expected a size (a number of bytes or a string like "2 GiB") for ${what}, got ${describeValue(v)}`,
    );
  };
}

const requiredSize = (what = 'minsize') => checked<number>(sizeValue(what), `${what} is required`);
const optionalSize = (what = 'minsize') => checked<number | undefined>(sizeValue(what));

// ---------------------------------------------------------------------------------------------
// Names and rules
// ---------------------------------------------------------------------------------------------

/** Blueprint and source names: composer's (and lorax's) rule, also used for names in API paths. */
export const BLUEPRINT_NAME = /^[a-zA-Z0-9._-]+$/;

/**
 * The longest blueprint or source name (and repository id). composer sets none, but a name travels
 * in URL paths, several at a time in comma lists (Node refuses a request head over 16 KiB, which a
 * stored name of that size then could never be deleted through), and becomes part of file names
 * (255 bytes at most), so it stays far below both.
 */
export const MAX_NAME_LENGTH = 100;

/** What is wrong with a blueprint name (or, with `what`, a source name), or undefined. */
export function blueprintNameProblem(name: string, what = 'blueprint'): string | undefined {
  if (name === '') return `empty ${what} name not allowed`;
  if (name.length > MAX_NAME_LENGTH) {
    return `${what} name too long: ${name.length} characters, at most ${MAX_NAME_LENGTH} allowed`;
  }
  if (name === '.' || name === '..') {
    return `invalid ${what} name "${name}": "." and ".." cannot be names (they mean directories in paths)`;
  }
  if (!BLUEPRINT_NAME.test(name)) {
    return `invalid ${what} name ${JSON.stringify(name)}: use only letters, digits, ".", "_" and "-"`;
  }
  return undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;
/** Control characters other than the tab, newline and carriage return a text of lines may hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL_IN_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * A rule for one line of text of at most `max` characters. Values of repositories end up in apt's
 * sources file, one field per line: a newline in one would start a field of its own there (such as
 * "Trusted: yes").
 */
export function oneLineProblem(what: string, max = MAX_NAME_LENGTH) {
  return (s: string): string | undefined => {
    if (CONTROL.test(s)) return `${what} must be one line without control characters`;
    if (s.length > max) return `${what} too long: ${s.length} characters, at most ${max} allowed`;
    return undefined;
  };
}

/** Debian package names (policy §5.6.1), with composer's globs `*` and `?`, and an optional `:arch`. */
const PACKAGE_NAME = /^[a-z0-9*?][a-z0-9+.*?-]*(?::[a-z0-9-]+)?$/;

export function packageNameProblem(name: string): string | undefined {
  if (name === '') return 'package name must not be empty';
  const base = name.split(':')[0] as string;
  if (!PACKAGE_NAME.test(name) || (base.length < 2 && !/[*?]/.test(base))) {
    return (
      `invalid Debian package name "${name}": at least two characters, lower-case letters, digits, ` +
      `"+", "-" and ".", starting with a letter or digit ("*" and "?" allowed as globs, ":arch" as suffix)`
    );
  }
  return undefined;
}

const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function hostnameProblem(h: string): string | undefined {
  if (h.length > 253 || !h.split('.').every((l) => HOSTNAME_LABEL.test(l))) {
    return (
      `invalid hostname "${h}": dot-separated labels of letters, digits and "-", ` +
      'each 1 to 63 characters, not starting or ending with "-"'
    );
  }
  return undefined;
}

/** User and group names as osbuild accepts them (a trailing "$" for machine accounts). */
const ACCOUNT_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}\$?$/;

function accountProblem(what: string) {
  return (n: string) =>
    ACCOUNT_NAME.test(n)
      ? undefined
      : `invalid ${what} name "${n}": up to 32 letters, digits, "_", "." and "-", not starting with "-"`;
}

function absolutePathProblem(p: string): string | undefined {
  return p.startsWith('/') ? undefined : `"${p}" is not an absolute path`;
}

/** Paths of files and directories made in the image: absolute and canonical. */
function canonicalPathProblem(p: string): string | undefined {
  if (p === '') return 'path must not be empty';
  if (p === '/') return undefined;
  if (!p.startsWith('/')) return `path "${p}" must be absolute`;
  if (p.length > 1 && p.endsWith('/')) return `path "${p}" must not end with "/"`;
  const segments = p.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return `path "${p}" must be canonical (no "//", "." or "..")`;
  }
  return undefined;
}

const MODE = /^0?[0-7]{3}$/;
const modeProblem = (m: string) =>
  MODE.test(m) ? undefined : `invalid mode "${m}": must be an octal number such as "0644" or "755"`;

/** Owner of a file or directory: a user/group name or a numeric id. */
function owner(what: 'user' | 'group') {
  return checked<string | number | undefined>((v) => {
    if (typeof v === 'string') {
      const m = accountProblem(what)(v);
      return m === undefined ? v : new Problem(m);
    }
    if (typeof v === 'number' && Number.isInteger(v)) {
      return v >= 0 ? v : new Problem(`${what} ID must not be negative, got ${v}`);
    }
    return new Problem(`expected a ${what} name or a numeric ID, got ${describeValue(v)}`);
  });
}

const PORT = /^(?:(\d{1,5})(?:-(\d{1,5}))?|[a-z][a-z0-9-]*):(tcp|udp|sctp|dccp)$/;

function portProblem(p: string): string | undefined {
  const m = p.match(PORT);
  const bad = `invalid firewall port "${p}": write PORT:PROTOCOL, PORT-PORT:PROTOCOL or SERVICE:PROTOCOL (tcp, udp, sctp, dccp), e.g. "22:tcp"`;
  if (!m) return bad;
  for (const n of [m[1], m[2]]) {
    if (n !== undefined && (Number(n) < 1 || Number(n) > 65535)) return `${bad}; ports are 1 to 65535`;
  }
  if (m[1] !== undefined && m[2] !== undefined && Number(m[2]) < Number(m[1]))
    return `${bad}; the range is reversed`;
  return undefined;
}

const unitProblem = (u: string) =>
  /^[A-Za-z0-9:_.@\\-]+$/.test(u) ? undefined : `invalid systemd unit name "${u}"`;

const timezoneProblem = (t: string) =>
  /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/.test(t)
    ? undefined
    : `invalid time zone "${t}" (e.g. "Europe/Berlin", "UTC")`;

const localeProblem = (l: string) =>
  /^[A-Za-z0-9_.@-]+$/.test(l) ? undefined : `invalid locale "${l}" (e.g. "en_US.UTF-8")`;

const keyboardProblem = (k: string) =>
  /^[A-Za-z0-9_.:()-]+$/.test(k) ? undefined : `invalid keyboard layout "${k}" (e.g. "us", "de-nodeadkeys")`;

// ---------------------------------------------------------------------------------------------
// Packages, modules, groups, containers
// ---------------------------------------------------------------------------------------------

function packageList() {
  return z.array(
    z
      .strictObject({
        name: text(packageNameProblem),
        version: z.string().optional(),
      })
      .superRefine((p, ctx) => {
        const problem = constraintProblem(p.version);
        if (problem !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['version'],
            message: `invalid version constraint "${p.version}" for package "${p.name}": ${problem}`,
            input: p.version,
          });
        }
      })
      .transform((p): { name: string; version?: string } =>
        p.version === undefined || p.version === '' ? { name: p.name } : { name: p.name, version: p.version },
      ),
  );
}

const enabledModule = z.strictObject({
  name: text(notEmpty('name')),
  stream: z.string().optional(),
});

const packageGroup = z.strictObject({
  name: text(notEmpty('group name')),
});

const container = z.strictObject({
  source: text(notEmpty('source')),
  name: z.string().optional(),
  'tls-verify': optBool(),
  'local-storage': optBool(),
});

/** A Debian package name exactly (no globs, no `:arch`): what a source package and its binaries are named. */
const DEBIAN_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** A path on the planning machine: absolute, canonical and printable (no control characters). */
function sourcePathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return `"${p}" is not an absolute path`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(p)) return `${JSON.stringify(p)} holds a control character`;
  if (
    p === '/' ||
    p
      .split('/')
      .slice(1)
      .some((s) => s === '' || s === '.' || s === '..')
  ) {
    return `"${p}" must be canonical (no "//", "." or "..", not "/" itself)`;
  }
  return undefined;
}

/**
 * A Debian source package built into the image (after the archive's packages): `name` (and an
 * exact `version`) from the distro's archive, or `path`, a source tree with debian/ or a .dsc on
 * the machine that plans; `install` the binary packages to install (default: all it builds for
 * the image's architecture). Each problem names the entry, since a blueprint may list several.
 */
const sourcePackage = z
  .strictObject({
    name: z.string().optional(),
    version: z.string().optional(),
    path: z.string().optional(),
    install: z.array(z.string()).optional(),
  })
  .superRefine((e, ctx) => {
    const entry = e.name !== undefined ? `source package "${e.name}"` : `source package at "${e.path}"`;
    const issue = (path: PropertyKey[], message: string, input: unknown) =>
      ctx.addIssue({ code: 'custom', path, message: `${entry}: ${message}`, input });
    if ((e.name === undefined) === (e.path === undefined)) {
      issue([], 'give exactly one of "name" (from the archive) or "path" (on the planning machine)', e);
      return;
    }
    if (e.name !== undefined && !DEBIAN_NAME.test(e.name)) {
      issue(['name'], 'not a Debian source package name (lower-case letters, digits, "+", "-", ".")', e.name);
    }
    if (e.path !== undefined) {
      const problem = sourcePathProblem(e.path);
      if (problem) issue(['path'], problem, e.path);
      if (e.version !== undefined) {
        issue(['version'], 'a local source has the version of its debian/changelog', e.version);
      }
    } else if (e.version !== undefined && !isValidDebianVersion(e.version)) {
      issue(['version'], `"${e.version}" is not a Debian version (an exact one, e.g. "2.10-3")`, e.version);
    }
    for (const [i, b] of (e.install ?? []).entries()) {
      if (!DEBIAN_NAME.test(b)) issue(['install', i], `"${b}" is not a Debian binary package name`, b);
    }
    if (e.install?.length === 0) issue(['install'], '"install" must name a package when given', e.install);
  });

// ---------------------------------------------------------------------------------------------
// Customizations
// ---------------------------------------------------------------------------------------------

const kernel = z.strictObject({
  name: optText(packageNameProblem),
  append: z.string().optional(),
});

const sshKey = z.strictObject({
  user: text(accountProblem('user')),
  key: text(notEmpty('key')),
});

const user = z.strictObject({
  name: text(accountProblem('user')),
  description: z.string().optional(),
  password: z.string().optional(),
  key: z.string().optional(),
  home: optText(absolutePathProblem),
  shell: optText(absolutePathProblem),
  groups: textList(accountProblem('group')).optional(),
  uid: nonNegativeInt('uid').optional(),
  gid: nonNegativeInt('gid').optional(),
  expiredate: z.number().int().optional(),
  force_password_reset: optBool(),
});

const group = z.strictObject({
  name: text(accountProblem('group')),
  gid: nonNegativeInt('gid').optional(),
});

const timezone = z.strictObject({
  timezone: optText(timezoneProblem),
  ntpservers: textList(notEmpty('NTP server')).optional(),
});

const locale = z.strictObject({
  languages: textList(localeProblem).optional(),
  keyboard: optText(keyboardProblem),
});

const firewall = z.strictObject({
  ports: textList(portProblem).optional(),
  services: z
    .strictObject({
      enabled: textList(notEmpty('service')).optional(),
      disabled: textList(notEmpty('service')).optional(),
    })
    .optional(),
  zones: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        sources: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const services = z.strictObject({
  enabled: textList(unitProblem).optional(),
  disabled: textList(unitProblem).optional(),
  masked: textList(unitProblem).optional(),
});

/** `[[customizations.filesystem]]`: `size` is composer's old TOML alias of `minsize`. */
const filesystem = z.preprocess(
  (v) => {
    if (!isRecord(v) || !('size' in v)) return v;
    if ('minsize' in v) return v; // both present: reported by the refinement below
    const { size: sz, ...rest } = v;
    return { ...rest, minsize: sz };
  },
  z
    .strictObject({
      mountpoint: text(canonicalPathProblem),
      minsize: requiredSize(),
      size: z.unknown().optional(),
    })
    .superRefine((f, ctx) => {
      if (f.size !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['size'],
          message: 'size and minsize cannot both be set (size is an alias for minsize)',
        });
      }
      if (f.minsize === 0) {
        ctx.addIssue({ code: 'custom', path: ['minsize'], message: 'minsize must be greater than 0' });
      }
    })
    .transform((f) => ({ mountpoint: f.mountpoint, minsize: f.minsize })),
);

const fsTyped = {
  mountpoint: optText(canonicalPathProblem),
  label: z.string().optional(),
  fs_type: z.enum(['ext4', 'xfs', 'vfat', 'btrfs', 'swap']).optional(),
};

const logicalVolume = z.strictObject({
  name: z.string().optional(),
  minsize: requiredSize(),
  ...fsTyped,
});

const partitionHead = {
  minsize: requiredSize(),
  part_type: z.string().optional(),
  part_label: z.string().optional(),
  part_uuid: z.string().optional(),
};

const PARTITIONS = {
  plain: z.strictObject({ type: z.literal('plain'), ...partitionHead, ...fsTyped }),
  lvm: z.strictObject({
    type: z.literal('lvm'),
    ...partitionHead,
    name: z.string().optional(),
    logical_volumes: z.array(logicalVolume).optional(),
  }),
  btrfs: z.strictObject({
    type: z.literal('btrfs'),
    ...partitionHead,
    subvolumes: z
      .array(
        z.strictObject({ name: text(notEmpty('subvolume name')), mountpoint: optText(canonicalPathProblem) }),
      )
      .optional(),
  }),
};

type Partition = {
  [K in keyof typeof PARTITIONS]: z.output<(typeof PARTITIONS)[K]>;
}[keyof typeof PARTITIONS];

/** A partition: `type` (plain, lvm or btrfs; plain when missing) decides which keys are allowed. */
const partition = z.unknown().transform((v, ctx): Partition => {
  if (!isRecord(v)) {
    ctx.addIssue({ code: 'custom', message: `expected a table, got ${describeValue(v)}`, input: v });
    return z.NEVER;
  }
  const type = v.type ?? 'plain';
  const schema = typeof type === 'string' ? PARTITIONS[type as keyof typeof PARTITIONS] : undefined;
  if (!schema || !Object.hasOwn(PARTITIONS, type as string)) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `unknown partition type ${JSON.stringify(type)} (use "plain", "lvm" or "btrfs")`,
      input: type,
    });
    return z.NEVER;
  }
  const r = schema.safeParse({ ...v, type }, { reportInput: true });
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return r.data;
});

const disk = z.strictObject({
  type: z.enum(['gpt', 'dos']).optional(),
  minsize: optionalSize(),
  partitions: z.array(partition).optional(),
  start_offset: optionalSize('start_offset'),
  sector_size: z
    .number()
    .int()
    .superRefine((n, ctx) => {
      if (n <= 0 || (n & (n - 1)) !== 0) {
        ctx.addIssue({ code: 'custom', message: `sector_size must be a power of 2, got ${n}`, input: n });
      }
    })
    .optional(),
});

const fdo = z.strictObject({
  manufacturing_server_url: z.string().optional(),
  diun_pub_key_insecure: z.string().optional(),
  diun_pub_key_hash: z.string().optional(),
  diun_pub_key_root_certs: z.string().optional(),
  di_mfg_string_type_mac_iface: z.string().optional(),
});

const openscap = z.strictObject({
  datastream: z.string().optional(),
  profile_id: z.string().optional(),
  tailoring: z
    .strictObject({ selected: z.array(z.string()).optional(), unselected: z.array(z.string()).optional() })
    .optional(),
  json_tailoring: z
    .strictObject({ profile_id: z.string().optional(), filepath: z.string().optional() })
    .optional(),
  policy_id: z.string().optional(),
});

const ignition = z
  .strictObject({
    embedded: z.strictObject({ config: z.string().optional() }).optional(),
    firstboot: z.strictObject({ url: z.string().optional(), empty: optBool() }).optional(),
  })
  .superRefine((ig, ctx) => {
    if (ig.firstboot?.empty && ig.firstboot.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['firstboot'],
        message: 'ignition.firstboot.url is mutually exclusive with ignition.firstboot.empty',
      });
    }
  });

const directory = z.strictObject({
  path: text(canonicalPathProblem),
  user: owner('user'),
  group: owner('group'),
  mode: optText(modeProblem),
  ensure_parents: optBool(),
});

const file = z
  .strictObject({
    path: text(canonicalPathProblem),
    user: owner('user'),
    group: owner('group'),
    mode: optText(modeProblem),
    data: z.string().optional(),
    uri: z.string().optional(),
    ensure_parents: optBool(),
  })
  .superRefine((f, ctx) => {
    if (f.data !== undefined && f.uri !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['uri'], message: 'data and uri are mutually exclusive' });
    }
  });

// Repositories: apt repositories, with composer's (yum) keys accepted where they have a meaning.

const URI = /^(?:[a-z0-9]+\+)?(?:https?|ftp|file):/;

/** Longer URLs than browsers and proxies commonly take; a repository URL is far shorter. */
export const MAX_URL_LENGTH = 2048;

/**
 * A repository URL: http, https, ftp or file (with an apt transport prefix such as "tor+"), one
 * word: the URL parser drops tabs and newlines silently, but apt gets the text as it is.
 */
export function repositoryUriProblem(u: string): string | undefined {
  if (SPACE_OR_CONTROL.test(u)) {
    return `invalid repository URI ${JSON.stringify(u.slice(0, 80))}: white space or control characters`;
  }
  if (u.length > MAX_URL_LENGTH) {
    return `repository URI too long: ${u.length} characters, at most ${MAX_URL_LENGTH} allowed`;
  }
  let ok = URI.test(u);
  if (ok) {
    try {
      new URL(u.replace(/^[a-z0-9]+\+/, ''));
    } catch {
      ok = false;
    }
  }
  return ok ? undefined : `invalid repository URI "${u}" (http, https, ftp or file URL)`;
}

const ARMOURED = /^-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n[\s\S]+\n-----END PGP PUBLIC KEY BLOCK-----$/;
/** The longest armoured key block taken: a keyring of many keys with their signatures. */
const MAX_KEY_BLOCK = 256 * 1024;
const FINGERPRINTS = /^[0-9A-Fa-f]{40}!?(?:[ ,]+[0-9A-Fa-f]{40}!?)*$/;

/** An absolute path without white space or control characters (it is written into apt's files). */
function keyringPathProblem(s: string): string | undefined {
  if (!s.startsWith('/')) return `"${s.slice(0, 80)}" is not an absolute path`;
  if (SPACE_OR_CONTROL.test(s)) {
    return `keyring path ${JSON.stringify(s.slice(0, 80))} has white space or control characters`;
  }
  return s.length > MAX_URL_LENGTH ? `keyring path too long: ${s.length} characters` : undefined;
}

/** An ASCII-armoured key block: its lines and nothing else (tabs and carriage returns allowed). */
function keyBlockProblem(s: string): string | undefined {
  const t = s.trim();
  if (!ARMOURED.test(t) || CONTROL_IN_LINES.test(t)) {
    return (
      'a key block must be ASCII-armoured ("-----BEGIN PGP PUBLIC KEY BLOCK-----" … ' +
      '"-----END PGP PUBLIC KEY BLOCK-----") with nothing before or after'
    );
  }
  return s.length > MAX_KEY_BLOCK
    ? `key block too long: ${s.length} characters, at most ${MAX_KEY_BLOCK}`
    : undefined;
}

const isKeyBlock = (s: string) => s.trim().startsWith('-----BEGIN');

/**
 * What apt can verify a repository with by itself: an absolute path to a keyring file, or an
 * ASCII-armoured key block (which is dearmoured into a keyring file).
 */
export function keyringProblem(s: string): string | undefined {
  if (isKeyBlock(s)) return keyBlockProblem(s);
  if (s.startsWith('/')) return keyringPathProblem(s);
  return 'expected an absolute path to a keyring or an ASCII-armoured key block';
}

function signedByProblem(s: string): string | undefined {
  if (FINGERPRINTS.test(s.trim()) && !CONTROL.test(s)) return undefined;
  if (isKeyBlock(s) || s.startsWith('/')) return keyringProblem(s);
  return (
    'signed_by must be an absolute path to a keyring, an ASCII-armoured key ' +
    '("-----BEGIN PGP PUBLIC KEY BLOCK-----" … "-----END PGP PUBLIC KEY BLOCK-----") or key fingerprints'
  );
}

function gpgKeyProblem(s: string): string | undefined {
  if (/^(?:https?|file):/.test(s)) return repositoryUriProblem(s);
  if (isKeyBlock(s) || s.startsWith('/')) return keyringProblem(s);
  return 'each of gpgkeys must be a URL, an absolute path or an ASCII-armoured key';
}

/** One word of apt's sources file that may hold a path, but never `..` in it. */
function isSourcesWord(s: string): boolean {
  return /^[A-Za-z0-9._+/-]{1,100}$/.test(s) && !s.split('/').includes('..');
}

/** A suite ("bookworm", "bookworm-updates", or "./" for a flat repository), one word. */
export function suiteProblem(s: string): string | undefined {
  return isSourcesWord(s)
    ? undefined
    : `invalid suite ${JSON.stringify(s.slice(0, 100))} (e.g. "bookworm", "bookworm-updates", or "./" for a flat repository)`;
}

/** A component ("main", "contrib" …), one word. */
export function componentProblem(c: string): string | undefined {
  return isSourcesWord(c) ? undefined : `invalid component ${JSON.stringify(c.slice(0, 100))}`;
}

const repositoryIdProblem = (id: string) => {
  if (id.length > MAX_NAME_LENGTH) {
    return `repository id too long: ${id.length} characters, at most ${MAX_NAME_LENGTH} allowed`;
  }
  return BLUEPRINT_NAME.test(id)
    ? undefined
    : `invalid repository id ${JSON.stringify(id)}: use letters, digits, ".", "_" and "-"`;
};

const repository = z
  .strictObject({
    id: text(repositoryIdProblem),
    name: optText(oneLineProblem('repository name')),
    uri: optText(repositoryUriProblem),
    baseurls: textList(repositoryUriProblem).optional(),
    suites: textList(suiteProblem).optional(),
    components: textList(componentProblem).optional(),
    architectures: textList((a) =>
      /^[a-z0-9-]+$/.test(a) ? undefined : `invalid architecture "${a}"`,
    ).optional(),
    signed_by: optText(signedByProblem),
    gpgkeys: textList(gpgKeyProblem).optional(),
    trusted: optBool(),
    enabled: optBool(),
    priority: z.number().int().optional(),
    gpgcheck: optBool(),
    repo_gpgcheck: optBool(),
    sslverify: optBool(),
    filename: optText(oneLineProblem('repository filename')),
    install_from: optBool(),
  })
  .superRefine((r, ctx) => {
    const hasBase = (r.baseurls?.length ?? 0) > 0;
    if (r.uri === undefined && !hasBase) {
      ctx.addIssue({
        code: 'custom',
        path: ['uri'],
        message: `repository "${r.id}" needs "uri" (or composer's "baseurls")`,
      });
    }
    if (r.uri !== undefined && hasBase) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseurls'],
        message: `repository "${r.id}": give "uri" or "baseurls", not both`,
      });
    }
    const flat = (r.suites ?? []).filter((s) => s.endsWith('/'));
    if (flat.length > 0 && (r.components?.length ?? 0) > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['components'],
        message: `repository "${r.id}": a flat repository (suite "${flat[0]}") takes no components`,
      });
    }
  });

const installer = z.strictObject({
  unattended: optBool(),
  'sudo-nopasswd': z.array(z.string()).optional(),
  kickstart: z.strictObject({ contents: z.string() }).optional(),
  modules: z
    .strictObject({ enable: z.array(z.string()).optional(), disable: z.array(z.string()).optional() })
    .optional(),
  'menu-timeout': z.number().int().optional(),
});

const rpm = z.strictObject({
  import_keys: z.strictObject({ files: z.array(z.string()).optional() }).optional(),
});

const pluginEnabled = z.strictObject({ enabled: optBool() }).optional();

const rhsm = z.strictObject({
  config: z
    .strictObject({
      dnf_plugins: z
        .strictObject({ product_id: pluginEnabled, subscription_manager: pluginEnabled })
        .optional(),
      subscription_manager: z
        .strictObject({
          rhsm: z.strictObject({ manage_repos: optBool(), auto_enable_yum_plugins: optBool() }).optional(),
          rhsmcertd: z.strictObject({ auto_registration: optBool() }).optional(),
        })
        .optional(),
    })
    .optional(),
});

const firstbootScript = z.strictObject({
  type: z.enum(['custom', 'satellite', 'aap']).optional(),
  name: z.string().optional(),
  ignore_failure: optBool(),
  custom_contents: z.string().optional(),
  satellite_cacerts: z.array(z.string()).optional(),
  satellite_command: z.string().optional(),
  aap_cacerts: z.array(z.string()).optional(),
  aap_job_template_url: z.string().optional(),
  aap_host_config_key: z.string().optional(),
});

const sshd = z.strictObject({
  password_authentication: optBool(),
  challenge_response_authentication: optBool(),
  kbd_interactive_authentication: optBool(),
  client_alive_interval: nonNegativeInt('client_alive_interval').optional(),
  permit_root_login: z
    .union([z.boolean(), z.enum(['yes', 'no', 'prohibit-password', 'forced-commands-only'])])
    .optional(),
});

export const CustomizationsSchema = z.strictObject({
  hostname: optText(hostnameProblem),
  kernel: kernel.optional(),
  sshkey: z.array(sshKey).optional(),
  user: z.array(user).optional(),
  group: z.array(group).optional(),
  timezone: timezone.optional(),
  locale: locale.optional(),
  firewall: firewall.optional(),
  services: services.optional(),
  filesystem: z.array(filesystem).optional(),
  disk: disk.optional(),
  installation_device: optText(absolutePathProblem),
  partitioning_mode: z.enum(['raw', 'lvm', 'auto-lvm', 'btrfs']).optional(),
  fdo: fdo.optional(),
  openscap: openscap.optional(),
  ignition: ignition.optional(),
  directories: z.array(directory).optional(),
  files: z.array(file).optional(),
  repositories: z.array(repository).optional(),
  fips: optBool(),
  installer: installer.optional(),
  rpm: rpm.optional(),
  rhsm: rhsm.optional(),
  cacerts: z.strictObject({ pem_certs: z.array(z.string()).optional() }).optional(),
  'containers-storage': z.strictObject({ 'destination-path': optText(absolutePathProblem) }).optional(),
  firstboot: z.strictObject({ scripts: z.array(firstbootScript).optional() }).optional(),
  dnf: z.strictObject({ config: z.strictObject({ set_releasever: optBool() }).optional() }).optional(),
  iso: z
    .strictObject({
      application_id: z.string().optional(),
      publisher: z.string().optional(),
      volume_id: z.string().optional(),
    })
    .optional(),
  sshd: sshd.optional(),
});

// ---------------------------------------------------------------------------------------------
// The blueprint
// ---------------------------------------------------------------------------------------------

const blueprintVersion = checked<string | undefined>((v) => {
  if (v === '') return undefined;
  if (typeof v !== 'string') return new Problem(`expected a string, got ${describeValue(v)}`);
  const problem = semverProblem(v);
  return problem === undefined
    ? v
    : new Problem(`Invalid 'version', must use Semantic Versioning: ${problem}`);
}).transform((v) => v ?? '0.0.0');

export const BlueprintSchema = z.strictObject({
  name: text(blueprintNameProblem),
  description: z.string().default(''),
  version: blueprintVersion,
  packages: packageList().default([]),
  modules: packageList().default([]),
  enabled_modules: z.array(enabledModule).default([]),
  groups: z.array(packageGroup).default([]),
  containers: z.array(container).optional(),
  source_packages: z.array(sourcePackage).optional(),
  customizations: CustomizationsSchema.optional(),
  distro: text((d) =>
    d === '' || /^[a-z][a-z0-9._-]*$/.test(d) ? undefined : `invalid distribution "${d}" (e.g. "debian-12")`,
  ).default(''),
  architecture: optText((a) =>
    /^[a-z0-9_]+$/.test(a) ? undefined : `invalid architecture "${a}" (e.g. "x86_64")`,
  ),
  minimal: optBool(),
});

export type Blueprint = z.output<typeof BlueprintSchema>;
export type BlueprintInput = z.input<typeof BlueprintSchema>;
export type Customizations = z.output<typeof CustomizationsSchema>;
export type PackageSpec = Blueprint['packages'][number];
export type SourcePackageSpec = NonNullable<Blueprint['source_packages']>[number];
export type UserCustomization = NonNullable<Customizations['user']>[number];
export type GroupCustomization = NonNullable<Customizations['group']>[number];
export type RepositoryCustomization = NonNullable<Customizations['repositories']>[number];
export type DirectoryCustomization = NonNullable<Customizations['directories']>[number];
export type FileCustomization = NonNullable<Customizations['files']>[number];
export type FilesystemCustomization = NonNullable<Customizations['filesystem']>[number];
export type DiskCustomization = NonNullable<Customizations['disk']>;
export type PartitionCustomization = Partition;

// ---------------------------------------------------------------------------------------------
// Validation with readable issues
// ---------------------------------------------------------------------------------------------

/** Extra words for keys that people often get wrong, by key name. */
const KEY_HINTS: Record<string, string> = {
  arch: 'did you mean "architecture"?',
  users: 'did you mean "user" ([[customizations.user]])?',
  sshkeys: 'did you mean "sshkey" ([[customizations.sshkey]])?',
  service: 'did you mean "services"?',
  metalink: 'yum repositories only: an apt repository has no metalink; give "uri" or "baseurls"',
  mirrorlist: 'yum repositories only: an apt repository has no mirrorlist; give "uri" or "baseurls"',
  module_hotfixes: 'yum repositories only: Debian has no modularity',
};

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'a list',
  object: 'a table',
};

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  keys?: string[];
  values?: unknown[];
}

function toPath(path: PropertyKey[]): JsonPath {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

function readableIssues(issues: readonly ZodIssueLike[]): BlueprintIssue[] {
  const out: BlueprintIssue[] = [];
  const seen = new Set<string>();
  const add = (path: JsonPath, message: string) => {
    const k = `${JSON.stringify(path)}\u0000${message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ path, message });
    }
  };
  for (const issue of issues) {
    const path = toPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys ?? []) {
          const hint = Object.hasOwn(KEY_HINTS, key) ? KEY_HINTS[key] : undefined;
          add([...path, key], `unknown key "${key}"${hint ? `: ${hint}` : ''}`);
        }
        break;
      case 'invalid_type': {
        const want = TYPE_WORDS[issue.expected ?? ''] ?? issue.expected ?? 'another type';
        if (issue.input === undefined) add(path, `required (${want})`);
        else if (issue.expected === 'int' && typeof issue.input === 'number') {
          add(path, `expected an integer, got ${describeValue(issue.input)}`);
        } else add(path, `expected ${want}, got ${describeValue(issue.input)}`);
        break;
      }
      case 'invalid_value': {
        const allowed = (issue.values ?? []).map((v) => JSON.stringify(v)).join(', ');
        add(path, `expected one of ${allowed}, got ${describeValue(issue.input)}`);
        break;
      }
      case 'invalid_union':
        add(path, `unexpected value: ${describeValue(issue.input)}`);
        break;
      default:
        add(path, issue.message);
    }
  }
  return out;
}

export type CheckResult = { ok: true; blueprint: Blueprint } | { ok: false; issues: BlueprintIssue[] };

/** Validates a parsed document (from TOML or JSON) as a blueprint; never throws. */
export function checkBlueprint(data: unknown): CheckResult {
  const r = BlueprintSchema.safeParse(data, { reportInput: true });
  if (r.success) return { ok: true, blueprint: r.data };
  return { ok: false, issues: readableIssues(r.error.issues as unknown as ZodIssueLike[]) };
}

/** Validates a parsed document as a blueprint; throws a BlueprintError listing every problem. */
export function validateBlueprint(data: unknown): Blueprint {
  const r = checkBlueprint(data);
  if (!r.ok) throw BlueprintError.invalid(r.issues);
  return r.blueprint;
}
