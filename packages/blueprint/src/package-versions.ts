/**
 * Debian package versions and the constraints a blueprint's packages may put on them: the ordering
 * is @debian-forge/debian-version's; a blueprint's versions are checked first, each problem named.
 * The blueprint's own version is semver.ts's.
 */
import {
  compareDebianVersions as compareValid,
  type DebianVersion,
  parseDebianVersion as parseValid,
} from '@debian-forge/debian-version';

export type { DebianVersion };

// ---------------------------------------------------------------------------------------------
// Debian versions (Debian policy §5.6.12: [epoch:]upstream_version[-debian_revision])
// ---------------------------------------------------------------------------------------------

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
  return parseValid(text);
}

/** Orders two Debian versions (-1, 0, 1) as dpkg does; throws when either is not a valid version. */
export function compareDebianVersions(a: string, b: string): number {
  parseDebianVersion(a);
  parseDebianVersion(b);
  return compareValid(a, b);
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
