/**
 * The host's apt sources, read into `Repository` values: deb822 files
 * (`/etc/apt/sources.list.d/*.sources`) and one-line files (`/etc/apt/sources.list`,
 * `/etc/apt/sources.list.d/*.list`). Files with other endings (`*.disabled`, `*.save` …) are
 * ignored, as apt ignores them; so are stanzas with `Enabled: no` and commented-out lines.
 *
 * Which entries are Debian's (`isDebianRepository`): an entry whose `Signed-By` names a keyring
 * file is Debian's exactly when that file is a Debian archive keyring (`debian-archive-*`); an entry
 * without a keyring file (no `Signed-By`, or an inline key block) is Debian's when every suite is a
 * Debian suite name (a release codename such as bookworm or trixie, or an alias such as stable, with
 * an optional -updates, -security, -backports, -proposed-updates suffix) and every component is one
 * of Debian's (main, contrib, non-free, non-free-firmware). So a third-party repository signed with
 * its own key (nodesource, cloud-sdk, docker …) is never taken, even when it names a Debian suite.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AptError, AptErrorCode } from './errors.ts';

export type RepositoryType = 'deb' | 'deb-src';

export interface Repository {
  /** A stable, human-readable name ("debian.sources#1", or one a configuration gives). */
  id: string;
  types: RepositoryType[];
  uris: string[];
  /** Suites (codenames); a flat repository has one suite ending in "/" (often "./") and no components. */
  suites: string[];
  components: string[];
  /** A keyring file path, or an ASCII-armoured public key block. */
  signedBy?: string;
  architectures?: string[];
  /** `trusted=yes`: apt accepts the repository without a valid signature (local repositories). */
  trusted?: boolean;
  /**
   * false: the https server's certificate and host name are not checked (Weldr's `check_ssl:
   * false`). apt has no such switch per source, so it applies to every https URI on the hosts of
   * this repository's URIs (see tls.ts). Default true.
   */
  verifyTls?: boolean;
}

/** The Debian archive keyring that the debian-archive-keyring package installs. */
export const DEBIAN_ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** Debian releases by distro name, as the composer names them. */
export const DEBIAN_RELEASES: Readonly<Record<string, string>> = {
  'debian-11': 'bullseye',
  'debian-12': 'bookworm',
  'debian-13': 'trixie',
  'debian-14': 'forky',
};

const DEBIAN_CODENAMES = new Set([
  'buzz',
  'rex',
  'bo',
  'hamm',
  'slink',
  'potato',
  'woody',
  'sarge',
  'etch',
  'lenny',
  'squeeze',
  'wheezy',
  'jessie',
  'stretch',
  'buster',
  'bullseye',
  'bookworm',
  'trixie',
  'forky',
  'duke',
  'sid',
]);
const DEBIAN_ALIASES = new Set([
  'stable',
  'testing',
  'unstable',
  'oldstable',
  'oldoldstable',
  'experimental',
  'rc-buggy',
]);
const DEBIAN_SUITE_SUFFIXES = [
  '-updates',
  '-security',
  '-backports-sloppy',
  '-backports',
  '-proposed-updates',
];
const DEBIAN_COMPONENTS = new Set(['main', 'contrib', 'non-free', 'non-free-firmware']);

/** Splits a suite into its release part and its suffix: "bookworm-security" → ["bookworm", "-security"]. */
function splitSuite(suite: string): [string, string] {
  if (suite.endsWith('/updates')) return [suite.slice(0, -'/updates'.length), '/updates'];
  for (const suffix of DEBIAN_SUITE_SUFFIXES) {
    if (suite.endsWith(suffix)) return [suite.slice(0, -suffix.length), suffix];
  }
  return [suite, ''];
}

export function isDebianSuite(suite: string): boolean {
  const [release] = splitSuite(suite);
  return DEBIAN_CODENAMES.has(release) || DEBIAN_ALIASES.has(release);
}

function isDebianKeyring(path: string): boolean {
  return /^debian-archive-.*\.(gpg|asc|pgp)$/.test(basename(path));
}

/** The rule in this file's header comment. */
export function isDebianRepository(repo: Repository): boolean {
  if (repo.signedBy && !repo.signedBy.includes('\n') && repo.signedBy.startsWith('/')) {
    return isDebianKeyring(repo.signedBy);
  }
  return (
    repo.suites.length > 0 &&
    repo.suites.every(isDebianSuite) &&
    repo.components.length > 0 &&
    repo.components.every((c) => DEBIAN_COMPONENTS.has(c))
  );
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;

/**
 * What keeps a repository from being written into apt's sources file as it is, or undefined. Each
 * field there is one line of space-separated words: a value with a new line would add a field of
 * its own ("Trusted: yes"), one with a space would split into two URIs or suites, and the id is a
 * comment line. An armoured Signed-By block is never written (its dearmoured keyring's path is), so
 * only a keyring path is checked. Callers validate where values enter; this is the last check, so
 * that nothing they miss reaches apt.
 */
export function repositoryWriteProblem(repo: Repository): string | undefined {
  const shown = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (CONTROL.test(repo.id)) return `repository id ${shown(repo.id)} has control characters`;
  const fields: [string, readonly string[]][] = [
    ['types', repo.types],
    ['URIs', repo.uris],
    ['suites', repo.suites],
    ['components', repo.components],
    ['architectures', repo.architectures ?? []],
  ];
  if (repo.signedBy !== undefined && !repo.signedBy.includes('-----BEGIN')) {
    fields.push(['the keyring path', [repo.signedBy]]);
  }
  for (const [field, values] of fields) {
    const bad = values.find((v) => v === '' || SPACE_OR_CONTROL.test(v));
    if (bad !== undefined) {
      return `repository ${shown(repo.id)}: ${field} value ${shown(bad)} is empty or has white space or control characters`;
    }
  }
  return undefined;
}

function words(value: string): string[] {
  return value.split(/\s+/).filter((w) => w.length > 0);
}

function parseTypes(values: string[], where: string): RepositoryType[] {
  const types: RepositoryType[] = [];
  for (const t of values) {
    if (t !== 'deb' && t !== 'deb-src') {
      throw new AptError(AptErrorCode.Sources, `${where}: unknown type '${t}' (deb or deb-src expected)`);
    }
    if (!types.includes(t)) types.push(t);
  }
  return types;
}

function isYes(value: string): boolean {
  return /^(yes|true|1)$/i.test(value.trim());
}

/**
 * Parses a deb822 sources file. `name` names the file in ids ("NAME#1", "NAME#2" per stanza) and in
 * error messages. A multi-line `Signed-By` is an inline key block: continuation lines lose their
 * first space, and " ." stands for an empty line.
 */
export function parseDeb822Sources(text: string, name: string): Repository[] {
  const repos: Repository[] = [];
  const stanzas: { fields: Map<string, string>; line: number }[] = [];
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) continue;
    if (line.trim() === '') {
      current = undefined;
      lastKey = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (!current || !lastKey)
        throw new AptError(AptErrorCode.Sources, `${name}:${lineNo}: continuation line outside a field`);
      const body = line.slice(1);
      current.set(lastKey, `${current.get(lastKey)}\n${body.trim() === '.' ? '' : body}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new AptError(AptErrorCode.Sources, `${name}:${lineNo}: expected 'Field: value', got '${line}'`);
    if (!current) {
      current = new Map();
      stanzas.push({ fields: current, line: lineNo });
    }
    lastKey = line.slice(0, colon).trim().toLowerCase();
    current.set(lastKey, line.slice(colon + 1).trim());
  }
  let index = 0;
  for (const { fields, line } of stanzas) {
    index++;
    const where = `${name}:${line}`;
    if (fields.has('enabled') && !isYes(fields.get('enabled') ?? '')) continue;
    const types = parseTypes(words(fields.get('types') ?? ''), where);
    const uris = words(fields.get('uris') ?? '');
    const suites = words(fields.get('suites') ?? '');
    const components = words(fields.get('components') ?? '');
    if (types.length === 0 || uris.length === 0 || suites.length === 0) {
      throw new AptError(AptErrorCode.Sources, `${where}: a stanza needs Types, URIs and Suites`);
    }
    const repo: Repository = { id: `${name}#${index}`, types, uris, suites, components };
    const signedBy = fields.get('signed-by');
    if (signedBy)
      repo.signedBy = signedBy.includes('\n') ? `${signedBy.replace(/^\n/, '').trimEnd()}\n` : signedBy;
    const arches = words(fields.get('architectures') ?? '');
    if (arches.length > 0) repo.architectures = arches;
    if (fields.has('trusted')) repo.trusted = isYes(fields.get('trusted') ?? '');
    repos.push(repo);
  }
  return repos;
}

/**
 * Parses a one-line sources file: `deb [ key=value … ] URI SUITE [COMPONENT …]`. Options used:
 * `signed-by`, `arch`, `trusted`; others are ignored. Ids are "NAME:LINE".
 */
export function parseOneLineSources(text: string, name: string): Repository[] {
  const repos: Repository[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const where = `${name}:${lineNo}`;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) throw new AptError(AptErrorCode.Sources, `${where}: cannot parse '${line}'`);
    const [, type, options = '', uri = '', suite = '', rest = ''] = m;
    const repo: Repository = {
      id: `${name}:${lineNo}`,
      types: parseTypes([type ?? ''], where),
      uris: [uri],
      suites: [suite],
      components: words(rest),
    };
    for (const option of words(options)) {
      const eq = option.indexOf('=');
      if (eq <= 0) continue;
      const key = option.slice(0, eq).toLowerCase();
      const value = option.slice(eq + 1);
      if (key === 'signed-by') repo.signedBy = value;
      else if (key === 'arch') repo.architectures = value.split(',').filter((a) => a);
      else if (key === 'trusted') repo.trusted = isYes(value);
    }
    repos.push(repo);
  }
  return repos;
}

export interface HostSourcePaths {
  /** Default /etc/apt/sources.list */
  sourcesList?: string;
  /** Default /etc/apt/sources.list.d */
  sourcesDir?: string;
}

/** Every enabled repository of the host's apt sources, Debian's or not, in apt's reading order. */
export function readHostSources(paths: HostSourcePaths = {}): Repository[] {
  const list = paths.sourcesList ?? '/etc/apt/sources.list';
  const dir = paths.sourcesDir ?? '/etc/apt/sources.list.d';
  const repos: Repository[] = [];
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new AptError(AptErrorCode.Sources, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
  };
  if (existsSync(list)) repos.push(...parseOneLineSources(read(list), basename(list)));
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir).sort()) {
      // apt's own rule for part file names: letters, digits, '_', '-', '.' only.
      if (!/^[A-Za-z0-9_.-]+$/.test(entry)) continue;
      if (entry.endsWith('.list')) repos.push(...parseOneLineSources(read(join(dir, entry)), entry));
      else if (entry.endsWith('.sources')) repos.push(...parseDeb822Sources(read(join(dir, entry)), entry));
    }
  }
  return repos;
}

/** "debian-13" → "trixie"; a codename stays as it is. */
export function debianCodename(suiteOrDistro: string): string {
  const codename = DEBIAN_RELEASES[suiteOrDistro] ?? suiteOrDistro;
  if (!DEBIAN_CODENAMES.has(codename) && !DEBIAN_ALIASES.has(codename)) {
    throw new AptError(
      AptErrorCode.Request,
      `unknown Debian release '${suiteOrDistro}' (a codename such as bookworm or trixie, or ${Object.keys(DEBIAN_RELEASES).join(', ')})`,
    );
  }
  return codename;
}

/**
 * The repositories for one Debian release (a codename, or a distro name such as "debian-13"): the
 * host's Debian repositories (see `isDebianRepository`) with the same URIs and components and the
 * release substituted in every suite — bookworm → trixie, bookworm-updates → trixie-updates,
 * bookworm-security → trixie-security. Only `deb` entries are kept. An entry without a keyring gets
 * the Debian archive keyring, because an isolated root has no trusted keys of its own.
 */
export function debianRepositories(suite: string, host: Repository[] = readHostSources()): Repository[] {
  const codename = debianCodename(suite);
  const out: Repository[] = [];
  for (const repo of host) {
    if (!repo.types.includes('deb') || !isDebianRepository(repo)) continue;
    const suites: string[] = [];
    for (const s of repo.suites) {
      if (!isDebianSuite(s)) continue;
      const [, suffix] = splitSuite(s);
      const mapped = `${codename}${suffix === '/updates' ? '-security' : suffix}`;
      if (!suites.includes(mapped)) suites.push(mapped);
    }
    if (suites.length === 0) continue;
    const mapped: Repository = { ...repo, types: ['deb'], suites };
    if (!mapped.signedBy && !mapped.trusted && existsSync(DEBIAN_ARCHIVE_KEYRING)) {
      mapped.signedBy = DEBIAN_ARCHIVE_KEYRING;
    }
    out.push(mapped);
  }
  if (out.length === 0) {
    throw new AptError(
      AptErrorCode.Sources,
      'the host apt sources hold no Debian repository (an entry signed by a debian-archive keyring, or with only Debian suite names and components)',
    );
  }
  return out;
}

/**
 * Why Debian packages cannot be resolved from the host's apt sources (they name no Debian
 * repository), or undefined when they can: what tests that run real apt skip on.
 */
export function hostDebianProblem(): string | undefined {
  try {
    debianRepositories('bookworm');
    return undefined;
  } catch (err) {
    return `no Debian repository in the host's apt sources: ${(err as Error).message}`;
  }
}
