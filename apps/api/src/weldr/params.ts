/**
 * What Weldr routes read from a request, checked before anything is looked up: names by the name
 * rule, compose ids, paging, query parameters (`?format=`, `?distro=`, `?arch=`), the API version
 * of the path, and the raw body with its media type. Each refusal is Weldr's id and composer's
 * words.
 */
import { blueprintNameProblem, MAX_NAME_LENGTH } from '@debian-forge/blueprint';
import type { Compose, Store } from '@debian-forge/store';
import type { FastifyRequest } from 'fastify';
import { WeldrError } from '../errors.ts';
import type { PackageService, PackageTarget } from '../services/packages.ts';

/**
 * Refuses a blueprint (or, with `what`, a source or commit) name that breaks the name rule
 * (blueprintNameProblem) with Weldr's `InvalidChars`, before any lookup: composer's message for its
 * character rule, ours for the length limit composer does not have.
 */
export function checkName(name: string, what = 'blueprint'): string {
  const problem = blueprintNameProblem(name, what);
  if (problem === undefined) return name;
  const msg = name.length > MAX_NAME_LENGTH ? problem : 'Invalid characters in API path';
  throw new WeldrError(400, 'InvalidChars', msg);
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The compose of a path parameter: `UnknownUUID` (400) for a malformed id ("X is not a valid build
 * uuid") or an unknown one ("Compose X doesn't exist"), composer's texts; compose/info answers an
 * unknown id with the first text, as composer does (`unknown`).
 */
export function composeParam(store: Store, uuid: string, unknown = `Compose ${uuid} doesn't exist`): Compose {
  if (!UUID_RE.test(uuid)) throw new WeldrError(400, 'UnknownUUID', `${uuid} is not a valid build uuid`);
  const compose = store.composes.get(uuid);
  if (!compose) throw new WeldrError(400, 'UnknownUUID', unknown);
  return compose;
}

export interface WeldrPage {
  offset: number;
  limit: number;
}

function pageValue(query: Record<string, unknown>, key: 'offset' | 'limit', fallback: number): number {
  const raw = query[key];
  if (raw === undefined) return fallback;
  const text = String(raw);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new WeldrError(
      400,
      'BadLimitOrOffset',
      `BadRequest: invalid value for '${key}': strconv.ParseUint: parsing "${text}": invalid syntax`,
    );
  }
  return Number(text);
}

/** `offset` (default 0) and `limit` (default 20) from the query string. */
export function parsePage(query: unknown): WeldrPage {
  const q = (query ?? {}) as Record<string, unknown>;
  return { offset: pageValue(q, 'offset', 0), limit: pageValue(q, 'limit', 20) };
}

/** Whether a request came by the v1 paths (/api/v1/…), whose answers carry more keys than v0's. */
export function isV1(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/v1/');
}

/** A query parameter as one string ("" when absent; the first when repeated). */
export function queryValue(request: FastifyRequest, key: string): string {
  const v = (request.query as Record<string, unknown> | undefined)?.[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}

/** `?format=json|toml` (json by default); anything else is `InvalidChars` naming the value. */
export function formatParam(request: FastifyRequest): 'json' | 'toml' {
  const format = queryValue(request, 'format');
  if (format === '' || format === 'json') return 'json';
  if (format === 'toml') return 'toml';
  throw new WeldrError(400, 'InvalidChars', `invalid format parameter: ${format}`);
}

/**
 * `?distro=` and `?arch=`: the host's by default; a distro that does not exist for the
 * architecture is `DistroError` "Invalid distro: x" (400). A distro left out on an architecture it
 * does not build is reported by the caller with its own error id.
 */
export function queryTarget(
  request: FastifyRequest,
  packages: PackageService,
): { distroName: string; arch: string; target: PackageTarget | undefined } {
  const arch = queryValue(request, 'arch') || packages.hostArch;
  const asked = queryValue(request, 'distro');
  if (asked !== '' && !packages.validDistros(arch).includes(asked)) {
    throw new WeldrError(400, 'DistroError', `Invalid distro: ${asked}`);
  }
  const distroName = asked || packages.hostDistro;
  const distro = packages.distro(distroName, arch);
  return { distroName, arch, target: distro ? { distro, arch } : undefined };
}

export interface RequestBody {
  /** The media type without parameters, lower case; undefined without a Content-Type header. */
  mediaType: string | undefined;
  text: string;
}

/** The raw body (the Weldr scope parses every body as a string) and its media type. */
export function requestBody(request: FastifyRequest): RequestBody {
  const header = request.headers['content-type'];
  const mediaType = header === undefined ? undefined : (header.split(';')[0] as string).trim().toLowerCase();
  const body = request.body;
  return { mediaType, text: typeof body === 'string' ? body : '' };
}
