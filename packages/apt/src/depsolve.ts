/**
 * Depsolving with apt itself: `apt-get --print-uris -y install …` in an isolated root whose dpkg
 * status is empty, so apt lists every .deb a fresh system with the request would need. apt's output
 * gives the URLs; the SHA256 and size of each file come from the root's Packages index (apt prints
 * only MD5 there, which is never used).
 *
 * Requests use the forms blueprints allow: "name", "name:arch", "name=1.2-3" (the epoch may be left
 * out when only one version fits), "name=1.2*" (a version glob: the newest matching version), "name (>= 1.2)" or "name >= 1.2" with Debian's
 * relations `<< <= = >= >>` (resolved here to the newest version that satisfies it, then given to
 * apt as name=version), "name/suite" (apt's target release), and raw apt patterns ("?essential").
 *
 * Base sets, as mmdebstrap's variants define them:
 *   essential  ?essential
 *   required   ?essential ?priority(required) apt
 *   minbase    required, with merged /usr by `usr-is-merged` rather than the `usrmerge` converter:
 *              apt would otherwise take `usrmerge` for init-system-helpers' "usrmerge | usr-is-merged"
 *              on bookworm and pull perl in (96 packages instead of 88). This is what mmdebstrap's
 *              merged-usr hook achieves; trixie needs no help and gets the same 78 as mmdebstrap.
 *   important  minbase + ?priority(important)
 *   standard   important + ?priority(standard)
 *   none       nothing but the request
 * The merged-/usr rule (`usrmerge` excluded unless asked for) applies to minbase, important and
 * standard.
 */
import { basename } from 'node:path';
import { isValidDebianVersion, satisfiesRelation, type VersionRelation } from '@debian-forge/debian-version';
import { AptError, AptErrorCode } from './errors.ts';
import type { RunResult } from './exec.ts';
import { loadIndex, type PackageIndex, type PackageRecord, recordByUrl } from './packages.ts';
import type { AptRoot } from './root.ts';
import { globToRegExp } from './search.ts';

export type BaseSet = 'essential' | 'minbase' | 'required' | 'important' | 'standard' | 'none';

export interface DepsolveRequest {
  packages: string[];
  /** Default 'none'. */
  base?: BaseSet;
  /** Package names never to install; a request that needs one is unsatisfiable. */
  excludes?: string[];
  /** Default false. */
  installRecommends?: boolean;
  /** Must be the root's architecture (default: it). */
  arch?: string;
  /** Refresh the root first when its lists are stale; default true. */
  update?: boolean;
  /**
   * Debian relations to satisfy besides `packages`, as a source package's Build-Depends writes them
   * (alternatives `|`, `[arch]` and `<profile>` restrictions, `:native`/`:any`): apt itself reads
   * them (`apt-get satisfy`), as sbuild's apt resolver does with its dummy package. With relations,
   * `packages` must be plain names (`name`, `name:arch`, `name=version`) and the base set 'none'.
   */
  relations?: string[];
  /** Relations nothing installed may satisfy (Build-Conflicts); only with `relations`. */
  conflicts?: string[];
  /** The build profiles that are active for `relations`' `<…>` restrictions (nocheck, nodoc …). */
  profiles?: string[];
}

export interface ResolvedPackage {
  name: string;
  version: string;
  /** The package's Architecture ("amd64" or "all"). */
  arch: string;
  /** Full URL of the .deb, as apt prints it (percent-quoted). */
  url: string;
  /** The .deb's file name. */
  filename: string;
  /** From the Packages index. */
  sha256: string;
  /** Bytes, from the Packages index. */
  size: number;
  /** Id of the repository the file comes from. */
  repository: string;
}

export const BASE_SETS: Readonly<Record<BaseSet, readonly string[]>> = {
  none: [],
  essential: ['?essential'],
  required: ['?essential', '?priority(required)', 'apt'],
  minbase: ['?essential', '?priority(required)', 'apt'],
  important: ['?essential', '?priority(required)', '?priority(important)', 'apt'],
  standard: ['?essential', '?priority(required)', '?priority(important)', '?priority(standard)', 'apt'],
};
const MERGED_USR_BASES = new Set<BaseSet>(['minbase', 'important', 'standard']);

export type PackageRequest =
  | { kind: 'pattern'; pattern: string }
  | {
      kind: 'package';
      name: string;
      arch?: string;
      release?: string;
      relation?: VersionRelation;
      version?: string;
    };

const NAME = '[a-z0-9][a-z0-9+.-]*';
const REQUEST = new RegExp(
  `^(${NAME})(?::([a-z0-9-]+))?(?:/([A-Za-z0-9.+~_-]+))?\\s*(?:\\(\\s*(<<|<=|>=|>>|=|<|>)\\s*([^()\\s]*)\\s*\\)|(<<|<=|>=|>>|=|<|>)\\s*(\\S*))?$`,
);

/** Parses one package request; throws `FORGE_ERR_APT_REQUEST` for a malformed one. */
export function parsePackageRequest(text: string): PackageRequest {
  const s = text.trim();
  if (s.startsWith('?') || s.startsWith('~')) return { kind: 'pattern', pattern: s };
  const m = REQUEST.exec(s);
  if (!m) {
    throw new AptError(
      AptErrorCode.Request,
      `bad package request '${text}': expected "name", "name=VERSION" or "name (>= VERSION)" with a Debian package name`,
    );
  }
  const [, name = '', arch, release, op1, v1, op2, v2] = m;
  const op = op1 ?? op2;
  const version = v1 ?? v2;
  const req: PackageRequest = { kind: 'package', name };
  if (arch) req.arch = arch;
  if (release) req.release = release;
  if (op !== undefined) {
    if (op === '<' || op === '>') {
      throw new AptError(
        AptErrorCode.Request,
        `bad package request '${text}': '${op}' is ambiguous in Debian; write '${op}${op}' (strictly) or '${op}=' `,
      );
    }
    const globbed = op === '=' && /[*?[]/.test(version ?? '');
    if (!version || (!globbed && !isValidDebianVersion(version))) {
      throw new AptError(
        AptErrorCode.Request,
        `bad package request '${text}': '${version ?? ''}' is not a Debian version`,
      );
    }
    req.relation = op as VersionRelation;
    req.version = version;
  }
  return req;
}

function fail(code: AptErrorCode, message: string): never {
  throw new AptError(code, message);
}

/** The records of a name that fit an arch qualifier, newest first. */
function candidates(index: PackageIndex, name: string, arch: string | undefined): PackageRecord[] {
  const all = index.byName.get(name) ?? [];
  return arch ? all.filter((r) => r.architecture === arch || r.architecture === 'all') : all;
}

/** Turns one request into apt's command-line form. */
function aptArgument(index: PackageIndex, req: PackageRequest, text: string): string {
  if (req.kind === 'pattern') return req.pattern;
  const base = `${req.name}${req.arch ? `:${req.arch}` : ''}`;
  const target = req.release ? `/${req.release}` : '';
  if (!req.relation || !req.version) return `${base}${target}`;
  if (req.release) {
    fail(
      AptErrorCode.Request,
      `bad package request '${text}': a version constraint and a target release together`,
    );
  }
  const versions = candidates(index, req.name, req.arch);
  // An unknown name goes to apt unchanged, so the error is apt's own ("Unable to locate package").
  if (versions.length === 0) return base;
  if (req.relation === '=') {
    if (!/[*?[]/.test(req.version)) {
      // Blueprints often leave the epoch out ("9.2p1-2" for "1:9.2p1-2"): take the one version that fits.
      if (!req.version.includes(':') && !versions.some((r) => r.version === req.version)) {
        const fits = [
          ...new Set(
            versions.filter((r) => r.version.replace(/^\d+:/, '') === req.version).map((r) => r.version),
          ),
        ];
        if (fits.length === 1) return `${base}=${fits[0]}`;
      }
      return `${base}=${req.version}`;
    }
    const re = globToRegExp(req.version);
    const pick = versions.find((r) => re.test(r.version));
    if (!pick)
      fail(AptErrorCode.Unsatisfiable, `E: Version '${req.version}' for '${req.name}' was not found`);
    return `${base}=${pick.version}`;
  }
  const pick = versions.find((r) =>
    satisfiesRelation(r.version, req.relation as VersionRelation, req.version as string),
  );
  if (!pick) {
    fail(
      AptErrorCode.Unsatisfiable,
      `E: No version of '${req.name}' satisfies (${req.relation} ${req.version}); available: ${[...new Set(versions.map((r) => r.version))].join(', ')}`,
    );
  }
  return `${base}=${pick.version}`;
}

const NOISE = [/^Reading package lists/, /^Building dependency tree/, /^Reading state information/];
const BOILERPLATE_START = /^Some packages could not be installed\./;
const BOILERPLATE_END = /^The following information may help to resolve the situation:/;

/** apt's explanation of a failed install, without progress lines and the generic preamble. */
export function aptExplanation(stdout: string, stderr: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of stdout.split('\n')) {
    if (NOISE.some((re) => re.test(line))) continue;
    if (BOILERPLATE_START.test(line)) skipping = true;
    if (skipping) {
      if (BOILERPLATE_END.test(line)) skipping = false;
      continue;
    }
    if (line.startsWith("'")) continue;
    out.push(line.trimEnd());
  }
  const text = [...out, ...stderr.split('\n').map((l) => l.trimEnd())].join('\n');
  return text.replace(/\n{3,}/g, '\n\n').trim();
}

function classify(stderr: string, explanation: string): AptErrorCode {
  if (/^E: input:\d+(-\d+)?: error:/m.test(stderr)) return AptErrorCode.Request;
  if (/is a virtual package provided by/.test(explanation)) return AptErrorCode.Unsatisfiable;
  if (/^E: Unable to locate package /m.test(stderr)) return AptErrorCode.NotFound;
  if (/^E: Couldn't find any package by /m.test(stderr)) return AptErrorCode.NotFound;
  if (/^E: Package '[^']+' has no installation candidate/m.test(stderr)) return AptErrorCode.NotFound;
  return AptErrorCode.Unsatisfiable;
}

export interface PrintedUri {
  url: string;
  filename: string;
  size: number;
  /** apt's hash word ("SHA256:…" for source files; install prints "MD5Sum:…", which is never used). */
  hash: string;
}

/** Parses apt's `--print-uris` lines: 'URL' FILENAME SIZE HASH. */
export function parsePrintUris(stdout: string): PrintedUri[] {
  const out: PrintedUri[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^'([^']+)' (\S+) (\d+)(?: (\S+))?/.exec(line);
    if (m?.[1] && m[2] && m[3]) out.push({ url: m[1], filename: m[2], size: Number(m[3]), hash: m[4] ?? '' });
  }
  return out;
}

function unquote(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/** Characters a relation may hold: names, versions, operators, `|`, `[arch]`, `<profile>`, `!`. */
const RELATION = /^[A-Za-z0-9][A-Za-z0-9 \t+.:~,|()<>=![\]_-]*$/;
const PROFILE = /^[a-z0-9][a-z0-9.+-]*$/;

/** The request's relations, checked: apt reads an argument starting with `-` as an option. */
function relationArgs(request: DepsolveRequest): string[] {
  const args: string[] = [];
  for (const [list, prefix] of [
    [request.relations ?? [], ''],
    [request.conflicts ?? [], 'Conflicts: '],
  ] as const) {
    for (const r of list) {
      if (!RELATION.test(r.trim())) {
        fail(AptErrorCode.Request, `bad relation '${r}': not Debian relation syntax`);
      }
      if (r.trim() !== '') args.push(`${prefix}${r.trim()}`);
    }
  }
  for (const p of request.profiles ?? []) {
    if (!PROFILE.test(p)) fail(AptErrorCode.Request, `bad build profile '${p}'`);
  }
  return args;
}

/** A package argument of apt-get install (`name`, `name:arch`, `name=version`) as a relation. */
function asRelation(argument: string, text: string): string {
  const m = /^([a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?)(?:=(.+))?$/.exec(argument);
  if (!m) {
    fail(AptErrorCode.Request, `'${text}' cannot be combined with relations (only names and exact versions)`);
  }
  return m[2] ? `${m[1]} (= ${m[2]})` : (m[1] as string);
}

/** Builds apt's arguments from the request and runs it under the shared lock. */
async function runApt(
  root: AptRoot,
  index: PackageIndex,
  request: DepsolveRequest,
  parsed: { text: string; req: PackageRequest }[],
  base: BaseSet,
): Promise<RunResult | 'stale' | 'empty'> {
  const requestedNames = new Set(parsed.map(({ req }) => (req.kind === 'package' ? req.name : '')));

  const excludes = [...new Set(request.excludes ?? [])];
  for (const x of excludes) {
    if (!new RegExp(`^${NAME}$`).test(x))
      fail(AptErrorCode.Request, `bad exclude '${x}': not a Debian package name`);
    if (requestedNames.has(x)) fail(AptErrorCode.Request, `'${x}' is both requested and excluded`);
  }
  const implicit: string[] = [];
  if (MERGED_USR_BASES.has(base) && !requestedNames.has('usrmerge') && index.byName.has('usrmerge')) {
    implicit.push('usrmerge');
  }
  // Names apt does not know would make it fail ("Unable to locate package"); excluding them is moot.
  const removals = [...excludes, ...implicit].filter((x) => index.byName.has(x));
  const notThese = excludes.map((x) => `?not(?exact-name(${x}))`);
  const baseArgs = BASE_SETS[base].map((p) =>
    p.startsWith('?') && notThese.length > 0 ? `?and(${p},${notThese.join(',')})` : p,
  );
  const relations = relationArgs(request);
  let command: string;
  let args: string[];
  if (relations.length > 0) {
    if (base !== 'none' || excludes.length > 0) {
      fail(AptErrorCode.Request, 'relations cannot be combined with a base set or excludes');
    }
    const pins = parsed.map(({ text, req }) => asRelation(aptArgument(index, req, text), text));
    command = 'satisfy';
    args = [...(pins.length > 0 ? [pins.join(', ')] : []), ...relations];
  } else {
    command = 'install';
    args = [
      ...baseArgs.filter((p) => !(p === 'apt' && excludes.includes('apt'))),
      ...parsed.map(({ text, req }) => aptArgument(index, req, text)),
      ...removals.map((x) => `${x}-`),
    ];
  }
  if (args.length === 0) return 'empty';
  const profiles = request.profiles ?? [];

  return root.withLock('shared', async () => {
    if (root.lastUpdate()?.generation !== index.generation) return 'stale' as const;
    return root.apt('apt-get', [
      '-q',
      '--print-uris',
      '-y',
      '-o',
      `APT::Install-Recommends=${request.installRecommends ? 'true' : 'false'}`,
      '-o',
      'APT::Install-Suggests=false',
      ...(profiles.length > 0 ? ['-o', `APT::Build-Profiles=${profiles.join(',')}`] : []),
      command,
      ...args,
    ]);
  });
}

/** Resolves a request to the exact .deb files a fresh system needs, sorted by name. */
export async function depsolve(root: AptRoot, request: DepsolveRequest): Promise<ResolvedPackage[]> {
  const arch = request.arch ?? root.arch;
  if (arch !== root.arch) {
    fail(AptErrorCode.Request, `architecture '${arch}' requested from an apt root for '${root.arch}'`);
  }
  const base = request.base ?? 'none';
  if (!Object.hasOwn(BASE_SETS, base)) {
    fail(AptErrorCode.Request, `unknown base set '${base}' (${Object.keys(BASE_SETS).join(', ')})`);
  }
  const parsed = request.packages.map((p) => ({ text: p, req: parsePackageRequest(p) }));
  // The index and the lists apt reads must be of the same update: if another process updated the
  // root between loading the index and running apt, load the index again and rerun.
  let index = await loadIndex(root, { update: request.update ?? true });
  let r = await runApt(root, index, request, parsed, base);
  for (let attempt = 0; r === 'stale'; attempt++) {
    if (attempt === 3) fail(AptErrorCode.Command, `the apt root ${root.dir} kept changing while resolving`);
    index = await loadIndex(root, { update: false });
    r = await runApt(root, index, request, parsed, base);
  }
  if (r === 'empty') return [];
  if (r.exitCode !== 0) {
    const explanation = aptExplanation(r.stdout, r.stderr);
    throw new AptError(
      classify(r.stderr, explanation),
      explanation || `apt-get exited with status ${r.exitCode}`,
    );
  }

  const resolved: ResolvedPackage[] = [];
  for (const uri of parsePrintUris(r.stdout)) {
    const rec = recordByUrl(index, unquote(uri.url));
    if (!rec) {
      fail(
        AptErrorCode.Command,
        `apt chose ${uri.url}, which is not in the root's package index (lists changed?)`,
      );
    }
    if (!rec.sha256)
      fail(AptErrorCode.Command, `${rec.name} ${rec.version} has no SHA256 in its Packages index`);
    resolved.push({
      name: rec.name,
      version: rec.version,
      arch: rec.architecture,
      url: uri.url,
      filename: basename(rec.filename),
      sha256: rec.sha256,
      size: rec.size,
      repository: rec.repository,
    });
  }
  // A constraint on a name that is only virtual cannot hold: apt took a provider and ignored it.
  for (const { text, req } of parsed) {
    if (req.kind === 'package' && req.relation && !index.byName.has(req.name)) {
      fail(
        AptErrorCode.Unsatisfiable,
        `E: '${req.name}' is a virtual package; the version constraint in '${text}' cannot apply to it`,
      );
    }
  }
  return resolved.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : 1));
}

/** A layer that also names relations to satisfy (a build environment's build dependencies). */
export type RelationLayer = Pick<DepsolveRequest, 'relations' | 'conflicts' | 'profiles'> & {
  packages: string[];
};

/**
 * Resolves cumulative layers (layer 1; layers 1+2; …) and returns, per layer, only the packages it
 * adds. Each layer is resolved with everything before it pinned (name=version), so later layers
 * never change earlier ones: adding a package to the last layer changes only the last layer. The
 * base set, if any, belongs to the first layer; excludes and recommends apply to all.
 */
export async function depsolveLayers(
  root: AptRoot,
  layers: (string[] | RelationLayer)[],
  options: Omit<DepsolveRequest, 'packages'> = {},
): Promise<ResolvedPackage[][]> {
  const out: ResolvedPackage[][] = [];
  let previous: ResolvedPackage[] = [];
  for (let i = 0; i < layers.length; i++) {
    const given = layers[i] ?? [];
    const layer: RelationLayer = Array.isArray(given) ? { packages: given } : given;
    // A later layer that asks for nothing adds nothing: what is before it is a whole resolution
    // already, so apt (a second or more per run) would only give the pins back.
    if (i > 0 && layer.packages.length === 0 && (layer.relations ?? []).length === 0) {
      out.push([]);
      continue;
    }
    const pins = previous.map((p) => `${p.name}=${p.version}`);
    const all = await depsolve(root, {
      ...options,
      base: i === 0 ? options.base : 'none',
      packages: [...pins, ...layer.packages],
      update: i === 0 ? options.update : false,
      ...(layer.relations ? { relations: layer.relations } : {}),
      ...(layer.conflicts ? { conflicts: layer.conflicts } : {}),
      ...(layer.profiles ? { profiles: layer.profiles } : {}),
    });
    const before = new Map(previous.map((p) => [`${p.name}:${p.arch}`, p]));
    const now = new Set(all.map((p) => `${p.name}:${p.arch}=${p.version}`));
    for (const p of previous) {
      if (!now.has(`${p.name}:${p.arch}=${p.version}`)) {
        fail(AptErrorCode.Command, `layer ${i + 1} changed ${p.name} ${p.version} of an earlier layer`);
      }
    }
    out.push(all.filter((p) => !before.has(`${p.name}:${p.arch}`)));
    previous = all;
  }
  return out;
}
