/**
 * Package sources as the Weldr API shows them, and as apt uses them.
 *
 * - System sources: the host's Debian repositories (its apt sources, mapped to the host distro's
 *   release by `debianRepositories`), one per repository, named after the last part of the
 *   repository's path ("debian", "debian-security"). They are listed with `system: true` and cannot
 *   be changed or deleted. The store may also hold rows marked system (put there by configuration);
 *   those count as system sources too.
 * - User sources: the store's other rows (`projects/source/new`), `type: "deb"` repositories with
 *   suites, components and a signed-by keyring.
 *
 * A source with `distros` is used only for composes, depsolves and package queries of those distros
 * (`sourcesFor`); one without is used for every distro, as osbuild-composer does.
 *
 * `sourceRepository` turns a user source into an apt repository for a distro: no suites means the
 * distro's own suite, no components means `main` (none for a flat repository such as `./`);
 * `check_ssl: false` becomes the repository's `verifyTls: false`.
 */
import { debianRepositories, type Repository, readHostSources } from '@debian-forge/apt';
import {
  blueprintNameProblem,
  componentProblem,
  keyringProblem,
  oneLineProblem,
  repositoryUriProblem,
  suiteProblem,
} from '@debian-forge/blueprint';
import type { Distro } from '@debian-forge/composer';
import type { Source } from '@debian-forge/store';

/** A source in the API's terms, whichever place it comes from. */
export interface CatalogSource {
  /** The key (Weldr v1's `id`, v0's `name`): a user source's key in the store, a system source's derived name. */
  id: string;
  /** The human name Weldr v1 shows beside the id (and v0 shows as `name`). */
  name: string;
  url: string;
  suites: string[];
  components: string[];
  signedBy: string[];
  checkGpg: boolean;
  checkSsl: boolean;
  system: boolean;
  /** The distros the source is used for; empty means every one. */
  distros: string[];
}

/** A name a system repository can go by: the last path part of its URI, made to fit the name rule. */
function repositoryName(repo: Repository): string {
  const uri = repo.uris[0] ?? '';
  let path = uri;
  try {
    path = new URL(uri).pathname;
  } catch {
    // Not a URL apt could use either; its text still gives a name.
  }
  const last =
    path
      .split('/')
      .filter((p) => p !== '')
      .pop() ?? '';
  const name = last.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return blueprintNameProblem(name) === undefined ? name : 'debian';
}

/**
 * The host's Debian repositories for `distro` as system sources, with unique names. No Debian
 * repository among the host's apt sources gives no system source (not an error here: the package
 * routes report it when they need one).
 */
export function systemSources(distro: Distro, host: () => Repository[] = readHostSources): CatalogSource[] {
  let repos: Repository[];
  try {
    repos = debianRepositories(distro.suite, host());
  } catch {
    return [];
  }
  const taken = new Map<string, number>();
  return repos.map((repo) => {
    const base = repositoryName(repo);
    const n = (taken.get(base) ?? 0) + 1;
    taken.set(base, n);
    const id = n === 1 ? base : `${base}-${n}`;
    return {
      id,
      name: id,
      url: repo.uris[0] ?? '',
      suites: [...repo.suites],
      components: [...repo.components],
      signedBy: repo.signedBy && !repo.signedBy.includes('\n') ? [repo.signedBy] : [],
      checkGpg: repo.trusted !== true,
      checkSsl: true,
      system: true,
      distros: [],
    };
  });
}

export function storedSource(s: Source): CatalogSource {
  return {
    id: s.name,
    name: s.displayName,
    url: s.url,
    suites: s.suites,
    components: s.components,
    signedBy: s.signedBy,
    checkGpg: s.checkGpg,
    checkSsl: s.checkSsl,
    system: s.system,
    distros: s.distros,
  };
}

/** What a user source holds, as posted and as stored. */
type SourceValues = Pick<CatalogSource, 'id' | 'name' | 'url' | 'suites' | 'components' | 'signedBy'>;

const displayNameProblem = oneLineProblem("'name'");

/**
 * What is wrong with a source's values, in the words of a POST body's keys, or undefined. The one
 * rule for sources: `projects/source/new` refuses what breaks it, and a stored source that breaks
 * it (an earlier version stored it) is left out of every depsolve (`sourcesFor`). The key follows
 * the name rule; the URL, suites, components and keyrings are what apt's sources file gets, one
 * line each, so none may hold a new line.
 */
export function sourceProblem(s: SourceValues): string | undefined {
  const keyProblem = blueprintNameProblem(s.id, 'source');
  if (keyProblem !== undefined) return keyProblem;
  const nameProblem = displayNameProblem(s.name);
  if (nameProblem !== undefined) return nameProblem;
  let protocol = '';
  try {
    protocol = new URL(s.url).protocol;
  } catch {
    // left empty: refused below
  }
  if (!['http:', 'https:', 'file:'].includes(protocol)) {
    return `'url' must be an http, https or file URL, not '${s.url.slice(0, 200)}'`;
  }
  // The URL parser dropped any tab or new line in it; apt would get them.
  const urlProblem = repositoryUriProblem(s.url);
  if (urlProblem !== undefined) return `'url': ${urlProblem}`;
  for (const [key, values, rule] of [
    ['suites', s.suites, suiteProblem],
    ['components', s.components, componentProblem],
    ['signed_by', s.signedBy, keyringProblem],
  ] as const) {
    for (const v of values) {
      const problem = rule(v);
      if (problem !== undefined) return `'${key}': ${problem}`;
    }
  }
  return undefined;
}

/**
 * The stored sources used for `distro`: those without distros, and those that name it. A source
 * that breaks the source rule (`sourceProblem`) is left out, so that one bad row cannot fail every
 * depsolve; `skipped` hears of each, to say so.
 */
export function sourcesFor(
  sources: Source[],
  distro: Distro,
  skipped?: (source: Source, problem: string) => void,
): Source[] {
  return sources.filter((s) => {
    if (s.distros.length > 0 && !s.distros.includes(distro.name)) return false;
    const problem = s.system ? undefined : sourceProblem(storedSource(s));
    if (problem !== undefined) skipped?.(s, problem);
    return problem === undefined;
  });
}

/** A user source as an apt repository for `distro` (see the top of this file). */
export function sourceRepository(s: CatalogSource, distro: Distro): Repository {
  const suites = s.suites.length > 0 ? s.suites : [distro.suite];
  const flat = suites.every((x) => x.endsWith('/'));
  const repo: Repository = {
    id: `source-${s.id}`,
    types: ['deb'],
    uris: [s.url],
    suites,
    components: s.components.length > 0 ? s.components : flat ? [] : ['main'],
  };
  if (s.signedBy[0] !== undefined) repo.signedBy = s.signedBy[0];
  if (!s.checkGpg) repo.trusted = true;
  if (!s.checkSsl) repo.verifyTls = false;
  return repo;
}
