/**
 * How Weldr answers: the success and error envelopes, and text (TOML, an empty answer) under the
 * JSON content type every Weldr answer has.
 */
import { type Blueprint, toToml } from '@debian-forge/blueprint';
import type { FastifyReply } from 'fastify';

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

export const WELDR_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Sends text (TOML, an empty answer) with the content type every Weldr answer has. */
export function sendText(reply: FastifyReply, text: string): FastifyReply {
  return reply.header('content-type', WELDR_CONTENT_TYPE).send(text);
}

/**
 * A table of tables (sources by id) as TOML, printed as composer's encoder prints it. `toToml`
 * prints any plain table that way; a blueprint is only the usual one.
 */
export function tomlDocument(tables: Record<string, Record<string, unknown>>): string {
  return Object.keys(tables).length === 0 ? '' : toToml(tables as unknown as Blueprint);
}
