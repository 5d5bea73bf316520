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
import type { Distro } from '@debian-forge/composer';
import type { Source } from '@debian-forge/store';
import { NAME_RE } from '../weldr/common.ts';

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
  return NAME_RE.test(name) ? name : 'debian';
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

/** The stored sources used for `distro`: those without distros, and those that name it. */
export function sourcesFor(sources: Source[], distro: Distro): Source[] {
  return sources.filter((s) => s.distros.length === 0 || s.distros.includes(distro.name));
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
