/**
 * Search and info over a root's package index (packages.ts): the newest version of each name by
 * Debian version ordering, names matched by shell-style globs (`*`, `?`, `[…]`; a name without
 * wildcards matches only itself), results sorted by name and paged with `limit`/`offset`.
 */
import { AptError, AptErrorCode } from './errors.ts';
import { type IndexOptions, loadDescriptions, loadIndex, type PackageRecord } from './packages.ts';
import type { AptRoot } from './root.ts';

export interface PackageSummary {
  name: string;
  version: string;
  architecture: string;
  /** The first line of the description. */
  summary: string;
  section: string;
  /** Bytes once installed (Installed-Size × 1024). */
  installedSize: number;
  /** Bytes of the .deb (Size). */
  size: number;
  homepage: string;
  /** Id of the repository this version comes from. */
  repository: string;
}

export interface PackageInfo extends PackageSummary {
  /** The long description as plain text (the summary when the archive has none). */
  description: string;
  priority: string;
  essential: boolean;
  source: string;
  maintainer: string;
  multiArch: string;
  /** The index's `License` field, "" when it has none (Debian's archive never has one). */
  license: string;
  depends: string[];
  preDepends: string[];
  recommends: string[];
  suggests: string[];
  conflicts: string[];
  breaks: string[];
  provides: string[];
  replaces: string[];
  /** Path relative to the repository (the index's Filename). */
  filename: string;
  url: string;
  sha256: string;
  /** Every available version, newest first. */
  versions: string[];
}

export interface SearchQuery extends IndexOptions {
  /** Name globs; a package matching any of them is listed. Default: every package. */
  names?: string | string[];
  /** Case-insensitive text that the name or the summary must contain. */
  text?: string;
  /** Default 100. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

export interface SearchResult {
  /** Number of matching names (before paging). */
  total: number;
  offset: number;
  limit: number;
  packages: PackageSummary[];
}

const GLOB_CHARS = /[*?[]/;

/** A shell-style glob as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function summaryOf(r: PackageRecord): PackageSummary {
  return {
    name: r.name,
    version: r.version,
    architecture: r.architecture,
    summary: r.summary,
    section: r.section,
    installedSize: r.installedSize,
    size: r.size,
    homepage: r.homepage,
    repository: r.repository,
  };
}

function relations(field: string): string[] {
  return field
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function search(root: AptRoot, query: SearchQuery = {}): Promise<SearchResult> {
  const limit = query.limit ?? 100;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) {
    throw new AptError(
      AptErrorCode.Request,
      `limit and offset must be non-negative integers (got ${limit}, ${offset})`,
    );
  }
  const index = await loadIndex(root, query);
  const globs = query.names === undefined ? ['*'] : Array.isArray(query.names) ? query.names : [query.names];
  let names: string[];
  if (globs.includes('*')) names = index.names;
  else {
    const exact = new Set(globs.filter((g) => !GLOB_CHARS.test(g)));
    const patterns = globs.filter((g) => GLOB_CHARS.test(g)).map(globToRegExp);
    names =
      patterns.length === 0
        ? [...exact].filter((n) => index.byName.has(n)).sort()
        : index.names.filter((n) => exact.has(n) || patterns.some((p) => p.test(n)));
  }
  const newest = (n: string) => (index.byName.get(n) as PackageRecord[])[0] as PackageRecord;
  if (!query.text) {
    return {
      total: names.length,
      offset,
      limit,
      packages: names.slice(offset, offset + limit).map((n) => summaryOf(newest(n))),
    };
  }
  const text = query.text.toLowerCase();
  const hits = names
    .map(newest)
    .filter((r) => r.name.includes(text) || r.summary.toLowerCase().includes(text));
  return { total: hits.length, offset, limit, packages: hits.slice(offset, offset + limit).map(summaryOf) };
}

/**
 * Full information on one package: the newest version, or the given one. Undefined when the name
 * (or that version) is not in the root's repositories.
 */
export async function info(
  root: AptRoot,
  name: string,
  options: IndexOptions & { version?: string } = {},
): Promise<PackageInfo | undefined> {
  return (await infoMany(root, [name], options))[0];
}

/** `info` for several names at once; unknown names are left out. */
export async function infoMany(
  root: AptRoot,
  names: string[],
  options: IndexOptions & { version?: string } = {},
): Promise<PackageInfo[]> {
  const index = await loadIndex(root, options);
  const found: PackageRecord[][] = [];
  for (const name of names) {
    const records = index.byName.get(name);
    if (!records) continue;
    const pick =
      options.version === undefined ? records[0] : records.find((r) => r.version === options.version);
    if (pick) found.push([pick, ...records]);
  }
  if (found.length === 0) return [];
  const needTranslations = found.some(([r]) => r && r.longDescription === undefined);
  const descriptions = needTranslations
    ? await loadDescriptions(root, { update: false })
    : new Map<string, string>();
  return found.map(([r, ...all]) => {
    const rec = r as PackageRecord;
    return {
      ...summaryOf(rec),
      description:
        rec.longDescription ?? descriptions.get(`${rec.name}\0${rec.descriptionMd5}`) ?? rec.summary,
      priority: rec.priority,
      essential: rec.essential,
      source: rec.source,
      maintainer: rec.maintainer,
      multiArch: rec.multiArch,
      license: rec.license,
      depends: relations(rec.depends),
      preDepends: relations(rec.preDepends),
      recommends: relations(rec.recommends),
      suggests: relations(rec.suggests),
      conflicts: relations(rec.conflicts),
      breaks: relations(rec.breaks),
      provides: relations(rec.provides),
      replaces: relations(rec.replaces),
      filename: rec.filename,
      url: rec.url,
      sha256: rec.sha256,
      versions: [...new Set(all.map((x) => x.version))],
    };
  });
}
