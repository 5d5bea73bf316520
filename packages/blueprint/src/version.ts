/**
 * Versions: the blueprint's own semantic version (bumped on push as osbuild-composer bumps it) and
 * Debian package versions with the constraints a blueprint may put on them.
 */

// ---------------------------------------------------------------------------------------------
// Semantic versions (the blueprint's `version`)
// ---------------------------------------------------------------------------------------------

export interface Semver {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated pre-release identifiers, "" when there are none. */
  prerelease: string;
  /** Build metadata after "+", "" when there is none. */
  build: string;
}

const IDENTIFIERS = /^[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*$/;

/**
 * Why `text` is not a semantic version, or undefined when it is one. The rules are those of the
 * semver library composer uses: MAJOR.MINOR.PATCH of decimal numbers, then an optional
 * `-pre.release` and an optional `+build`, identifiers of letters, digits and hyphens.
 */
export function semverProblem(text: string): string | undefined {
  let rest = text;
  const plus = rest.indexOf('+');
  let build = '';
  if (plus >= 0) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
  }
  const dash = rest.indexOf('-');
  let pre = '';
  if (dash >= 0) {
    pre = rest.slice(dash + 1);
    rest = rest.slice(0, dash);
  }
  const parts = rest.split('.');
  if (parts.length !== 3) return `"${text}" is not in dotted-tri format (MAJOR.MINOR.PATCH)`;
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return `"${p}" in "${text}" is not a decimal number`;
    if (!Number.isSafeInteger(Number(p))) return `"${p}" in "${text}" is too large`;
  }
  if (plus >= 0 && !IDENTIFIERS.test(build)) return `"${build}" in "${text}" is not valid build metadata`;
  if (dash >= 0 && !IDENTIFIERS.test(pre)) return `"${pre}" in "${text}" is not a valid pre-release`;
  return undefined;
}

/** Parses a semantic version; throws an Error saying what is wrong. */
export function parseSemver(text: string): Semver {
  const problem = semverProblem(text);
  if (problem !== undefined) throw new Error(problem);
  const plus = text.indexOf('+');
  const core = plus >= 0 ? text.slice(0, plus) : text;
  const build = plus >= 0 ? text.slice(plus + 1) : '';
  const dash = core.indexOf('-');
  const numbers = dash >= 0 ? core.slice(0, dash) : core;
  const prerelease = dash >= 0 ? core.slice(dash + 1) : '';
  const [major, minor, patch] = numbers.split('.').map(Number) as [number, number, number];
  return { major, minor, patch, prerelease, build };
}

export function isSemver(text: string): boolean {
  return semverProblem(text) === undefined;
}

/** Prints a version as composer's semver library does (numbers without leading zeros). */
export function formatSemver(v: Semver): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease !== '') s += `-${v.prerelease}`;
  if (v.build !== '') s += `+${v.build}`;
  return s;
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1; // a release ranks above any of its pre-releases
  if (b === '') return -1;
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) {
      const d = Number(p) - Number(q);
      if (d !== 0) return Math.sign(d);
    } else if (pn) {
      return -1;
    } else if (qn) {
      return 1;
    } else if (p !== q) {
      return p < q ? -1 : 1;
    }
  }
  return Math.sign(x.length - y.length);
}

/** Orders two semantic versions (-1, 0, 1) by semver precedence; build metadata is ignored. */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  }
  return comparePrerelease(x.prerelease, y.prerelease);
}

/** The next patch version: 0.0.1 → 0.0.2; pre-release and build parts are dropped (1.0.0-rc1 → 1.0.1). */
export function bumpPatch(version: string): string {
  const v = parseSemver(version);
  return formatSemver({ major: v.major, minor: v.minor, patch: v.patch + 1, prerelease: '', build: '' });
}

/**
 * The version a blueprint gets when it is pushed (`POST blueprints/new`), as WELDR-API.md §2 says:
 * - a new blueprint (nothing stored) keeps its version, "0.0.0" when it has none;
 * - when the pushed version is missing, empty or equal to the stored one, the stored version's
 *   patch number is bumped (0.0.1 → 0.0.2);
 * - any other version, higher or lower, is stored as it is.
 * When the stored version is not semver the bump is impossible and the pushed one is kept (composer's
 * BumpVersion does nothing then).
 *
 * `pushed` must be the version as the client sent it, before the schema's "0.0.0" default: use
 * `parseBlueprintText(...).versionGiven`. (osbuild-composer itself applies the default first, so a
 * push without a version over a stored 0.0.5 stores 0.0.0 there; the documented rule is kept here.)
 */
export function versionOnPush(pushed: string | undefined, stored: string | undefined): string {
  const given = pushed === undefined || pushed === '' ? undefined : pushed;
  if (stored === undefined) return given ?? '0.0.0';
  if (given === undefined || given === stored) {
    return isSemver(stored) ? bumpPatch(stored) : (given ?? '0.0.0');
  }
  return given;
}

// ---------------------------------------------------------------------------------------------
// Debian versions (Debian policy §5.6.12: [epoch:]upstream_version[-debian_revision])
// ---------------------------------------------------------------------------------------------

export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** "" when the version has no Debian revision (a native package). */
  revision: string;
}

/** Why `text` is not a Debian version, or undefined when it is one. */
export function debianVersionProblem(text: string): string | undefined {
  if (text === '') return 'it is empty';
  if (/\s/.test(text)) return 'it contains white space';
  let rest = text;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const epoch = rest.slice(0, colon);
    if (!/^\d+$/.test(epoch)) return `the epoch "${epoch}" is not an unsigned integer`;
    rest = rest.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  let upstream = rest;
  if (hyphen >= 0) {
    const revision = rest.slice(hyphen + 1);
    upstream = rest.slice(0, hyphen);
    if (revision === '') return 'the Debian revision after the last "-" is empty';
    const bad = revision.match(/[^A-Za-z0-9+.~]/);
    if (bad)
      return `the Debian revision "${revision}" contains "${bad[0]}" (allowed: letters, digits, "+", ".", "~")`;
  }
  if (upstream === '') return 'the upstream version is empty';
  if (!/^\d/.test(upstream)) return `the upstream version "${upstream}" does not start with a digit`;
  const bad = upstream.match(/[^A-Za-z0-9.+~-]/);
  if (bad) {
    return `the upstream version "${upstream}" contains "${bad[0]}" (allowed: letters, digits, ".", "+", "-", "~")`;
  }
  return undefined;
}

export function isDebianVersion(text: string): boolean {
  return debianVersionProblem(text) === undefined;
}

/** Splits a Debian version into epoch, upstream version and revision; throws when it is not valid. */
export function parseDebianVersion(text: string): DebianVersion {
  const problem = debianVersionProblem(text);
  if (problem !== undefined) throw new Error(`invalid Debian version "${text}": ${problem}`);
  let rest = text;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen < 0) return { epoch, upstream: rest, revision: '' };
  return { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

/** dpkg's character weight: "~" sorts before everything, even the end; letters before non-letters. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating non-digit and digit runs, non-digits by `order`, digits numerically. */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while (
      (i < a.length && !/[0-9]/.test(a[i] as string)) ||
      (j < b.length && !/[0-9]/.test(b[j] as string))
    ) {
      const ac = i < a.length && !/[0-9]/.test(a[i] as string) ? a[i] : undefined;
      const bc = j < b.length && !/[0-9]/.test(b[j] as string) ? b[j] : undefined;
      const d = order(ac) - order(bc);
      if (d !== 0) return Math.sign(d);
      if (ac !== undefined) i++;
      if (bc !== undefined) j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && j < b.length && /[0-9]/.test(a[i] as string) && /[0-9]/.test(b[j] as string)) {
      if (firstDiff === 0) firstDiff = (a.charCodeAt(i) as number) - (b.charCodeAt(j) as number);
      i++;
      j++;
    }
    if (i < a.length && /[0-9]/.test(a[i] as string)) return 1;
    if (j < b.length && /[0-9]/.test(b[j] as string)) return -1;
    if (firstDiff !== 0) return Math.sign(firstDiff);
  }
  return 0;
}

/** Orders two Debian versions (-1, 0, 1) as dpkg does; throws when either is not a valid version. */
export function compareDebianVersions(a: string, b: string): number {
  const x = parseDebianVersion(a);
  const y = parseDebianVersion(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  return compareFragment(x.upstream, y.upstream) || compareFragment(x.revision, y.revision);
}

// ---------------------------------------------------------------------------------------------
// Version constraints of blueprint packages
// ---------------------------------------------------------------------------------------------

/** Debian's relations (`<<` strictly earlier, `>>` strictly later), `*` for any version, `glob` for a pattern. */
export type ConstraintOp = '*' | '=' | '<<' | '<=' | '>=' | '>>' | 'glob';

export interface VersionConstraint {
  op: ConstraintOp;
  /** The version or pattern the operator applies to; "" for `*`. */
  version: string;
}

/**
 * Parses a package's `version` from a blueprint: "" or "*" (any version), an exact Debian version
 * ("2:9.2p1-2+deb12u3", same as "= 2:9.2p1-2+deb12u3"), a glob ("1.2.*", with `*` and `?`), or an
 * operator with a version (">= 1.2", "<< 3", "= 1.0-1"; space after the operator optional).
 * Throws an Error saying what is wrong; `constraintProblem` returns the same text instead.
 */
export function parseConstraint(text: string | undefined): VersionConstraint {
  const t = (text ?? '').trim();
  if (t === '' || t === '*') return { op: '*', version: '' };
  const m = t.match(/^(<<|<=|>=|>>|=|<|>)\s*(.*)$/);
  if (m) {
    const op = m[1] as string;
    const version = m[2] as string;
    if (op === '<' || op === '>') {
      const strict = op === '<' ? '<<' : '>>';
      const loose = op === '<' ? '<=' : '>=';
      throw new Error(
        `"${op}" is ambiguous in Debian: write "${strict}" (strictly) or "${loose}" (or equal)`,
      );
    }
    if (version === '') throw new Error(`"${op}" needs a version after it`);
    if (/[*?]/.test(version)) throw new Error(`a version after "${op}" cannot contain a glob ("*" or "?")`);
    const problem = debianVersionProblem(version);
    if (problem !== undefined) throw new Error(`"${version}" is not a Debian version: ${problem}`);
    return { op: op as ConstraintOp, version };
  }
  if (/[*?]/.test(t)) {
    // A glob must still look like a Debian version: put a digit where each wildcard is and check.
    const probe = t.replace(/[*?]/g, '0');
    const problem = debianVersionProblem(probe);
    if (problem !== undefined) {
      const bad = t.match(/[^A-Za-z0-9.+~:*?-]/);
      const what = bad ? `contains "${bad[0]}"` : 'cannot match any Debian version';
      throw new Error(`the glob "${t}" ${what}`);
    }
    return { op: 'glob', version: t };
  }
  const problem = debianVersionProblem(t);
  if (problem !== undefined) throw new Error(`"${t}" is not a Debian version: ${problem}`);
  return { op: '=', version: t };
}

/** Why a package version constraint is invalid, or undefined when it is valid. */
export function constraintProblem(text: string | undefined): string | undefined {
  try {
    parseConstraint(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * Whether the Debian version `version` satisfies `constraint` (a constraint string or a parsed one).
 * Relations use dpkg ordering, so "= 1.0" matches "0:1.0". A glob matches the whole version text;
 * a glob without an epoch also matches a version with one by its part after the epoch.
 */
export function matches(constraint: string | VersionConstraint | undefined, version: string): boolean {
  const c = typeof constraint === 'object' ? constraint : parseConstraint(constraint);
  switch (c.op) {
    case '*':
      parseDebianVersion(version);
      return true;
    case 'glob': {
      parseDebianVersion(version);
      const re = globToRegExp(c.version);
      if (re.test(version)) return true;
      const colon = version.indexOf(':');
      return !c.version.includes(':') && colon >= 0 && re.test(version.slice(colon + 1));
    }
    case '=':
      return compareDebianVersions(version, c.version) === 0;
    case '<<':
      return compareDebianVersions(version, c.version) < 0;
    case '<=':
      return compareDebianVersions(version, c.version) <= 0;
    case '>=':
      return compareDebianVersions(version, c.version) >= 0;
    case '>>':
      return compareDebianVersions(version, c.version) > 0;
  }
}

/** A constraint printed back in its canonical form ("*", "1.0-1", ">= 1.2", "1.2.*"). */
export function formatConstraint(c: VersionConstraint): string {
  if (c.op === '*') return '*';
  if (c.op === 'glob') return c.version;
  return `${c.op} ${c.version}`;
}
