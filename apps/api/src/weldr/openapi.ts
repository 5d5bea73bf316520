/** How a Weldr route appears in the OpenAPI document: its entry, or none. */
import type { FastifySchema } from 'fastify';
import { z } from 'zod';

/** A route's OpenAPI entry: its summary and its path parameters (strings, checked by the handler). */
export function doc(summary: string, path: string): FastifySchema {
  const names = [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
  return {
    summary,
    ...(names.length > 0 ? { params: z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) } : {}),
  };
}

/** Variants of a route kept for clients (a trailing slash, no names) but not worth an OpenAPI entry. */
export const HIDDEN: FastifySchema = { hide: true };
