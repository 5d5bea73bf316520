/**
 * What the Weldr route tests share: the error envelope check, POST with a body, and whether the
 * host can serve the tests that need the real Debian index.
 */
import assert from 'node:assert/strict';
import { hostDebianProblem } from '@debian-forge/apt';
import type { FastifyInstance } from 'fastify';

/** Asserts a Weldr error answer: status, `status: false`, the first error's id (and message), `code` on 404s. */
export function weldrError(
  res: { statusCode: number; json(): unknown },
  status: number,
  id: string,
  msg?: string | RegExp,
): void {
  assert.equal(res.statusCode, status);
  const body = res.json() as { status: boolean; errors: { id: string; msg: string; code?: number }[] };
  assert.equal(body.status, false);
  assert.equal(body.errors[0]?.id, id);
  if (typeof msg === 'string') assert.equal(body.errors[0]?.msg, msg);
  else if (msg) assert.match(body.errors[0]?.msg ?? '', msg);
  if (status === 404) assert.equal(body.errors[0]?.code, 404);
}

/** A POST with a text body and, when given, a Content-Type. */
export function postText(app: FastifyInstance, url: string, body: string, contentType?: string) {
  return app.inject({
    method: 'POST',
    url,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    payload: body,
  });
}

/** Why the host cannot serve the tests that need the Debian index, or undefined when it can. */
export const noDebianMirror = hostDebianProblem;

/** A Debian version put back together from Weldr's epoch, version and release. */
export function debVersion(d: { epoch: unknown; version: unknown; release: unknown }): string {
  return `${d.epoch === 0 ? '' : `${d.epoch}:`}${d.version}${d.release === '' ? '' : `-${d.release}`}`;
}
