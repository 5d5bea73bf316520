/**
 * JSON request bodies of the Cloud and Forge APIs nest at most DEFAULT_MAX_DEPTH levels (the
 * manifest package's limit, checked by the same function). JSON.parse copes with deeper text, but
 * what walks the result (the route schemas, the blueprint checks, JSON.stringify into the store)
 * recurses once per level and ran out of stack on a body 10,000 levels deep: a 500 for a bad
 * request. The check runs on the text before Fastify's own parser, which does everything else
 * (prototype poisoning included) as before. The Weldr API parses its bodies itself and checks them
 * where it does (weldr/plugin.ts).
 */
import { DEFAULT_MAX_DEPTH, jsonDepthProblem } from '@debian-forge/manifest';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiErrorCode } from '../errors.ts';

/** A body nested too deeply: the client's fault (400), with Fastify's error shape. */
class JsonDepthError extends Error {
  override readonly name = 'JsonDepthError';
  readonly code = ApiErrorCode.JsonTooDeep;
  readonly statusCode = 400;

  constructor(problem: string) {
    super(`the request body ${problem}`);
  }
}

/** `the request body nests …` when `text` nests deeper than the limit, else undefined. */
export function bodyDepthError(text: string): JsonDepthError | undefined {
  const problem = jsonDepthProblem(text, DEFAULT_MAX_DEPTH);
  return problem === undefined ? undefined : new JsonDepthError(problem);
}

export const jsonDepthPlugin = fp(async (app: FastifyInstance) => {
  const parse = app.getDefaultJsonParser(
    app.initialConfig.onProtoPoisoning ?? 'error',
    app.initialConfig.onConstructorPoisoning ?? 'error',
  );
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString(); // a string already (parseAs)
    const tooDeep = bodyDepthError(text);
    if (tooDeep !== undefined) {
      done(tooDeep, undefined);
      return;
    }
    parse(request, text, done);
  });
});
