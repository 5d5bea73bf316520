/**
 * Debian version ordering, as Debian policy §5.6.12 defines it: `[epoch:]upstream[-revision]`.
 * The epoch compares as a number (absent = 0); upstream and revision compare by alternating runs of
 * non-digits (character by character, letters before non-letters, `~` before everything, even the
 * end of the string) and digits (as numbers). An absent revision compares as "0".
 *
 * These functions take any string and never throw; a caller that reads versions from users checks
 * them first (isValidDebianVersion, or the blueprint's debianVersionProblem, which names what is
 * wrong). A leaf, so that apt and blueprint order versions by the same code.
 */

export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** "" when the version has no Debian revision (a native package). */
  revision: string;
}

export function parseDebianVersion(version: string): DebianVersion {
  const v = version.trim();
  let epoch = 0;
  let rest = v;
  const colon = v.indexOf(':');
  if (colon > 0 && /^\d+$/.test(v.slice(0, colon))) {
    epoch = Number(v.slice(0, colon));
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: '' };
}

/**
 * A Debian version in the words of osbuild-composer's package shapes (Weldr's PkgSpec, the Cloud
 * API's package metadata): `epoch` (0 when none), `version` (upstream) and `release` (the Debian
 * revision, "" when none).
 */
export function debianEvr(version: string): { epoch: number; version: string; release: string } {
  const v = parseDebianVersion(version);
  return { epoch: v.epoch, version: v.upstream, release: v.revision };
}

/**
 * Whether a version string is well formed: an optional numeric epoch, an upstream part that starts
 * with a digit and holds only alphanumerics and `. + ~ -` (a hyphen only when a revision follows),
 * and an optional revision of alphanumerics and `. + ~`.
 */
export function isValidDebianVersion(version: string): boolean {
  const m = /^(?:\d+:)?([^:]+)$/.exec(version);
  if (!m?.[1]) return false;
  const rest = m[1];
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : undefined;
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(upstream)) return false;
  return revision === undefined || /^[A-Za-z0-9.+~]+$/.test(revision);
}

/** The weight of one character in the non-digit part: `~` lowest, then end/digit, letters, the rest. */
function weight(code: number | undefined): number {
  if (code === undefined) return 0;
  if (code === 0x7e) return -1; // '~'
  if (code >= 0x30 && code <= 0x39) return 0; // a digit ends the non-digit run
  if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return code;
  return code + 256;
}

function isDigit(code: number | undefined): boolean {
  return code !== undefined && code >= 0x30 && code <= 0x39;
}

/** Compares two upstream versions or two revisions by policy's algorithm. */
function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit run: compare character by character until both reach a digit or the end.
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const wa = weight(i < a.length ? a.charCodeAt(i) : undefined);
      const wb = weight(j < b.length ? b.charCodeAt(j) : undefined);
      if (wa !== wb) return wa < wb ? -1 : 1;
      i++;
      j++;
    }
    // Digit run: compare as numbers (leading zeros ignored, no size limit).
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    let firstDiff = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1; // a's number has more digits
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in Debian's ordering. */
export function compareDebianVersions(a: string, b: string): number {
  if (a === b) return 0;
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  return comparePart(va.upstream, vb.upstream) || comparePart(va.revision, vb.revision);
}

/** Debian relation operators; `<` and `>` are the deprecated spellings and are refused by callers. */
export type VersionRelation = '<<' | '<=' | '=' | '>=' | '>>';

export function satisfiesRelation(version: string, relation: VersionRelation, reference: string): boolean {
  const c = compareDebianVersions(version, reference);
  switch (relation) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
