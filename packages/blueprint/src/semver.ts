/**
 * The blueprint's own version: a semantic version (MAJOR.MINOR.PATCH), bumped on push as
 * osbuild-composer bumps it. The versions of Debian packages are package-versions.ts's.
 */

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
