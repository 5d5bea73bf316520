/**
 * What many Weldr routes share: the name rule, comma lists, paging, the format parameter and the
 * response envelope.
 */
import { WeldrError } from '../errors.ts';

/** Blueprint, source and compose names in API paths (osbuild-composer's rule). */
export const NAME_RE = /^[a-zA-Z0-9._-]+$/;

/** Refuses a name that breaks the rule with Weldr's `InvalidChars`, before any lookup. */
export function checkName(name: string): string {
  if (!NAME_RE.test(name) || name === '.' || name === '..') {
    throw new WeldrError(400, 'InvalidChars', 'Invalid characters in API path');
  }
  return name;
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
