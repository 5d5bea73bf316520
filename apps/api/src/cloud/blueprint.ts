/**
 * The blueprint of a Cloud API compose request, in the blueprint package's format, so the compose
 * service checks it with the schema Weldr's blueprints/new uses (and hashes its passwords) like
 * any other: `blueprint` as it is (composer's Cloud Blueprint has the blueprint's own keys), or
 * `customizations` translated as composer's GetBlueprintFromCustomizations does: `users` → `user`,
 * `groups` → `group`, `packages` (names), `enabled_modules` and `containers` to the top level,
 * `filesystem[].min_size` → `minsize`, `fips.enabled` → `fips`, `custom_repositories` →
 * `repositories` (`baseurl` → `baseurls`, `gpgkey` → `gpgkeys`, `check_gpg` → `gpgcheck` …). Every
 * other key is kept under its name, so the schema refuses what it does not know instead of it
 * being dropped. The image request's repositories are added as `cloud-N` repositories.
 *
 * `requestPath` turns the path of a problem in that blueprint back into the request's own words
 * (`.customizations.users[0].name`), so a 400 names what the client sent.
 */
import { BlueprintError, type BlueprintIssue, type JsonPath, pathId } from '@debian-forge/blueprint';
import { ApiError } from '../errors.ts';
import type { ComposeRequest } from '../services/composes.ts';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Cloud repository keys → blueprint repository keys (the others are the same). */
const REPOSITORY_KEYS: Readonly<Record<string, string>> = {
  baseurl: 'baseurls',
  gpgkey: 'gpgkeys',
  check_gpg: 'gpgcheck',
  check_repo_gpg: 'repo_gpgcheck',
  ssl_verify: 'sslverify',
};
const REPOSITORY_KEYS_BACK = Object.fromEntries(Object.entries(REPOSITORY_KEYS).map(([k, v]) => [v, k]));

/** Cloud customization keys that are blueprint customizations under another name. */
const RENAMED: Readonly<Record<string, string>> = {
  users: 'user',
  groups: 'group',
  custom_repositories: 'repositories',
};
const RENAMED_BACK = Object.fromEntries(Object.entries(RENAMED).map(([k, v]) => [v, k]));

/** Cloud customization keys that are top-level blueprint keys. */
const TOP_LEVEL = ['packages', 'enabled_modules', 'containers'] as const;

function renameKeys(v: unknown, names: Readonly<Record<string, string>>): unknown {
  if (!isRecord(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [Object.hasOwn(names, k) ? names[k] : k, x]));
}

const eachOf = (v: unknown, fn: (item: unknown) => unknown): unknown => (Array.isArray(v) ? v.map(fn) : v);

export interface CloudBlueprint {
  blueprint: ComposeRequest['blueprint'];
  /** Where a problem at `path` of the blueprint is in the request. */
  requestPath(path: JsonPath): JsonPath;
}

interface ImageRepository {
  baseurl?: string;
  gpgkey?: string;
  check_gpg?: boolean;
}

/** The blueprint of a Cloud compose request (see the top of this file). */
export function cloudBlueprint(
  request: { blueprint?: Json; customizations?: Json; imageRequestPath: JsonPath },
  imageRepositories: readonly ImageRepository[],
): CloudBlueprint {
  let bp: Json;
  if (request.blueprint) {
    bp = { ...request.blueprint };
  } else {
    const c: Json = { ...(request.customizations ?? {}) };
    bp = { name: 'cloud-compose', version: '0.0.0' };
    for (const key of TOP_LEVEL) {
      if (!(key in c)) continue;
      bp[key] = key === 'packages' ? eachOf(c.packages, (name) => ({ name })) : c[key];
      delete c[key];
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(c)) {
      if (key === 'filesystem') out.filesystem = eachOf(value, (f) => renameKeys(f, { min_size: 'minsize' }));
      else if (key === 'fips')
        out.fips = isRecord(value) && Object.keys(value).join() === 'enabled' ? value.enabled : value;
      else if (key === 'custom_repositories')
        out.repositories = eachOf(value, (r) => renameKeys(r, REPOSITORY_KEYS));
      else out[Object.hasOwn(RENAMED, key) ? (RENAMED[key] as string) : key] = value;
    }
    if (Object.keys(out).length > 0) bp.customizations = out;
  }

  // The image request's repositories follow the blueprint's own (unless the customizations or
  // their repositories are not what they should be: the schema says so); each remembers its place.
  const given = imageRepositories.flatMap((r, i) => (r.baseurl ? [{ r, i }] : []));
  const custom = bp.customizations ?? {};
  const own = isRecord(custom) ? (custom.repositories ?? []) : undefined;
  const ownRepositories = Array.isArray(own) ? own.length : 0;
  if (given.length > 0 && Array.isArray(own)) {
    const added = given.map(({ r }, n) => ({
      id: `cloud-${n + 1}`,
      baseurls: [r.baseurl as string],
      ...(r.gpgkey ? { gpgkeys: [r.gpgkey] } : {}),
      ...(r.check_gpg === false ? { trusted: true } : {}),
    }));
    bp.customizations = { ...(custom as Json), repositories: [...own, ...added] };
  }

  const fromBlueprint = request.blueprint !== undefined;
  const requestPath = (path: JsonPath): JsonPath => {
    const [head, second, third] = path;
    if (head === 'customizations' && second === 'repositories' && typeof third === 'number') {
      if (third >= ownRepositories) {
        const image = given[third - ownRepositories];
        return [...request.imageRequestPath, 'repositories', image?.i ?? third - ownRepositories];
      }
    }
    if (fromBlueprint) return ['blueprint', ...path];
    if (head === 'packages' && typeof second === 'number') return ['customizations', 'packages', second];
    if (typeof head === 'string' && (TOP_LEVEL as readonly string[]).includes(head)) {
      return ['customizations', ...path];
    }
    if (head !== 'customizations' || typeof second !== 'string') return ['customizations'];
    const key = Object.hasOwn(RENAMED_BACK, second) ? (RENAMED_BACK[second] as string) : second;
    if (second === 'fips') return ['customizations', 'fips', 'enabled'];
    const tail = path.slice(2);
    const field = tail[1];
    if (second === 'filesystem' && field === 'minsize') tail[1] = 'min_size';
    if (
      second === 'repositories' &&
      typeof field === 'string' &&
      Object.hasOwn(REPOSITORY_KEYS_BACK, field)
    ) {
      tail[1] = REPOSITORY_KEYS_BACK[field] as string;
    }
    return ['customizations', key, ...tail];
  };

  return { blueprint: bp as ComposeRequest['blueprint'], requestPath };
}

/**
 * The Cloud API's 400 for a blueprint the schema refuses: `InvalidCustomization` (composer's id for
 * customizations it cannot use), each problem at its place in the request (`requestPath`).
 */
export function invalidBlueprint(
  issues: readonly BlueprintIssue[],
  requestPath: (path: JsonPath) => JsonPath,
): ApiError {
  const inRequest = issues.map((i) => ({ path: requestPath(i.path), message: i.message }));
  return new ApiError(
    400,
    'InvalidCustomization',
    BlueprintError.invalid(inRequest).message,
    inRequest.map((i) => ({ path: pathId(i.path), message: i.message })),
  );
}
