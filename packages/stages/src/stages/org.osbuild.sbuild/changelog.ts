/**
 * What the build needs from debian/changelog: the top entry as `dpkg-parsechangelog` prints it, and
 * the entry sbuild writes on top for a binNMU or a version suffix (its Build.pm "Hack binNMU
 * version": `<source> (<version>) <dist>; urgency=low, binary-only=yes`, the lines saying why, and
 * the trailer with the maintainer and an RFC 2822 date in UTC).
 */
import { StageError } from '../../shared/errors.ts';
import { parseStanzas } from '../../shared/local-repo.ts';

export interface ChangelogEntry {
  source: string;
  version: string;
  distribution: string;
  /** Seconds since the epoch (dpkg-parsechangelog's Timestamp). */
  timestamp: number;
}

/** `dpkg-parsechangelog`'s output (one stanza) read into the fields the build uses. */
export function parseChangelogFields(text: string): ChangelogEntry {
  const f = parseStanzas(text)[0] ?? {};
  const source = f.Source ?? '';
  const version = f.Version ?? '';
  const timestamp = Number(f.Timestamp);
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(source)) {
    throw new StageError(`debian/changelog names the source '${source}', which is not a source package name`);
  }
  if (!/^(\d+:)?[0-9][A-Za-z0-9.+~:-]*$/.test(version)) {
    throw new StageError(`debian/changelog's version '${version}' is not a Debian version`);
  }
  if (!Number.isSafeInteger(timestamp)) throw new StageError('debian/changelog has no readable date');
  return { source, version, distribution: f.Distribution ?? 'UNRELEASED', timestamp };
}

export interface BinaryOnlyEntry {
  binnmu?: number;
  message?: string;
  appendToVersion?: string;
  maintainer: string;
  distribution: string;
  timestamp: number;
  /** The Debian architecture the binNMU is for. */
  arch: string;
}

/** The binary version sbuild gives: the version, the suffix appended, then `+bN`. */
export function binaryVersion(version: string, entry: Pick<BinaryOnlyEntry, 'binnmu' | 'appendToVersion'>) {
  return `${version}${entry.appendToVersion ?? ''}${entry.binnmu ? `+b${entry.binnmu}` : ''}`;
}

/** `date -R` in UTC, as sbuild writes it (strftime "%a, %d %b %Y %H:%M:%S +0000"). */
function rfc2822(seconds: number): string {
  // toUTCString gives "Thu, 01 Jan 1970 00:00:00 GMT": the same fields, another zone name.
  return new Date(seconds * 1000).toUTCString().replace(/GMT$/, '+0000');
}

/** The changelog entry for a binNMU or version suffix, to be written above the existing ones. */
export function binaryOnlyEntry(top: ChangelogEntry, entry: BinaryOnlyEntry): string {
  const lines = [
    `${top.source} (${binaryVersion(top.version, entry)}) ${entry.distribution}; urgency=low, binary-only=yes`,
    '',
  ];
  if (entry.appendToVersion) {
    lines.push(`  * Append ${entry.appendToVersion} to version number; no source changes`);
  }
  if (entry.binnmu) {
    lines.push(`  * Binary-only non-maintainer upload for ${entry.arch}; no source changes.`);
    lines.push(`  * ${entry.message ?? ''}`);
  }
  lines.push('', ` -- ${entry.maintainer}  ${rfc2822(entry.timestamp)}`, '', '');
  return lines.join('\n');
}
