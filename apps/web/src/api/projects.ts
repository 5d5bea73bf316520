/**
 * Package search for the blueprint editor, over Weldr's projects calls: `modules/list/<glob>` finds
 * the names (paged, with the total), `projects/info/<names>` gives those packages' summaries and
 * the versions the index has. Two calls, each bounded by the page, however common the word.
 */
import { ApiFailure, type Client, segments, WELDR } from './client.ts';

export interface FoundPackage {
  name: string;
  summary: string;
  /** Debian versions ([epoch:]upstream[-revision]) the index has, newest first. */
  versions: string[];
}

export interface PackageSearch {
  total: number;
  packages: FoundPackage[];
}

interface Build {
  epoch: number;
  release: string;
  source: { version: string };
}

interface ProjectInfo {
  name: string;
  summary: string;
  builds: Build[];
}

/** The Debian version of one build of PackageInfo. */
export function buildVersion(b: Build): string {
  return `${b.epoch > 0 ? `${b.epoch}:` : ''}${b.source.version}${b.release === '' ? '' : `-${b.release}`}`;
}

/** A word is looked for anywhere in a name; a glob (`*`, `?`) is taken as it is. */
export function searchGlob(term: string): string {
  const t = term.trim().toLowerCase();
  return /[*?]/.test(t) ? t : `*${t}*`;
}

/** Packages whose names match `term`, the first `limit` of them by name. */
export async function searchPackages(api: Client, term: string, limit = 20): Promise<PackageSearch> {
  const glob = segments(searchGlob(term));
  let found: { total: number; modules: { name: string }[] };
  try {
    found = await api.get(`${WELDR}/modules/list/${glob}?limit=${limit}`);
  } catch (err) {
    // Weldr answers a search that finds nothing with an error.
    if (err instanceof ApiFailure && err.id === 'UnknownModule') return { total: 0, packages: [] };
    throw err;
  }
  if (found.modules.length === 0) return { total: found.total, packages: [] };
  const names = found.modules.map((m) => segments(m.name)).join(',');
  const info = await api.get<{ projects: ProjectInfo[] }>(`${WELDR}/projects/info/${names}`);
  return {
    total: found.total,
    packages: info.projects.map((p) => ({
      name: p.name,
      summary: p.summary,
      versions: p.builds.map(buildVersion),
    })),
  };
}
