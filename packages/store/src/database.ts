import { blueprintNameProblem } from '@debian-forge/blueprint';
import type Database from 'better-sqlite3';
import { StoreError, StoreErrorCode } from './errors.ts';

/**
 * The one database handle the repositories share: the connection, its write transaction and the
 * store's clock. Each repository (blueprints.ts, sources.ts, composes.ts, artifacts.ts) prepares
 * its own statements over it; openStore (store.ts) makes it and composes them.
 */
export interface StoreDb {
  db: Database.Database;
  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); nested calls join it. */
  tx: <T>(fn: () => T) => T;
  clock: () => Date;
  /** `clock()` as ISO text, the form the tables keep times in. */
  iso: () => string;
}

export interface Page {
  /** Rows to skip, 0 by default. */
  offset?: number;
  /** Rows to return, 20 by default (Weldr's default); 0 returns only the total. */
  limit?: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

/** Weldr's timestamp format, "2006-01-02T15:04:05Z" (UTC, whole seconds). */
export function weldrTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A page's offset and limit with their defaults; a negative or fractional one is refused. */
export function page(p: Page | undefined): { offset: number; limit: number } {
  const offset = p?.offset ?? 0;
  const limit = p?.limit ?? 20;
  for (const [k, v] of [
    ['offset', offset],
    ['limit', limit],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new StoreError(StoreErrorCode.Invalid, `invalid value for '${k}': ${v}`);
    }
  }
  return { offset, limit };
}

export function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export function notFound(what: string): StoreError {
  return new StoreError(StoreErrorCode.NotFound, what);
}

/**
 * Refuses a name the rule refuses (`FORGE_ERR_STORE_INVALID`): whatever is stored can then always
 * travel in an API path, to be read and deleted. The API checks names first, with its own errors.
 */
export function checkName(name: unknown, what: 'blueprint' | 'source'): void {
  if (typeof name !== 'string' || name === '') {
    throw new StoreError(StoreErrorCode.Invalid, `a ${what} needs a name`);
  }
  const problem = blueprintNameProblem(name, what);
  if (problem !== undefined) throw new StoreError(StoreErrorCode.Invalid, problem);
}
