/**
 * What many Weldr routes share: the name rule, comma lists, paging, the format parameter and the
 * response envelope.
 */
import { blueprintNameProblem, MAX_NAME_LENGTH } from '@debian-forge/blueprint';
import { WeldrError } from '../errors.ts';

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

/** A comma list from a path parameter (already URL-decoded), each name checked. */
export function parseNames(param: string | undefined): string[] {
  const names = (param ?? '').split(',').filter((n) => n !== '');
  for (const name of names) checkName(name);
  return names;
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

/** `?format=json|toml`; anything else is `InvalidChars` "invalid format parameter". */
export function parseFormat(query: unknown): 'json' | 'toml' {
  const format = ((query ?? {}) as Record<string, unknown>).format;
  if (format === undefined || format === 'json') return 'json';
  if (format === 'toml') return 'toml';
  throw new WeldrError(400, 'InvalidChars', 'invalid format parameter');
}

/** The success envelope. */
export const OK = { status: true } as const;

export interface WeldrErrorEntry {
  id: string;
  msg: string;
  code?: number;
}

/** The error envelope; `code` is added only for 404s, as osbuild-composer does. */
export function errorBody(
  status: number,
  id: string,
  msg: string,
): { status: false; errors: WeldrErrorEntry[] } {
  return { status: false, errors: [status === 404 ? { code: 404, id, msg } : { id, msg }] };
}
