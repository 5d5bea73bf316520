/**
 * The subset of osbuild-composer's Cloud API (v2) that weldr-client and image-builder clients use,
 * at /api/image-builder-composer/v2, with its error object.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { errorHandler } from '../errors.ts';
import { cloudCatalogRoutes } from './catalog.ts';
import { cloudComposeRoutes } from './composes.ts';
import { CLOUD_PREFIX } from './prefix.ts';

/** `text` on one line: control characters (a newline in a user name a problem quotes) escaped. */
const oneLine = (text: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is escaped
  text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));

/**
 * An error's details as the Cloud API gives them: text, as composer does. composer-cli decodes
 * `details` into a string and, on anything else, prints its decoding error instead of the reason;
 * a list of problems (`{path, message}`, as a refused blueprint has) is one line `PATH: MESSAGE`
 * each, so a problem's text cannot make a line of its own.
 */
export function detailsText(details: unknown): string {
  if (typeof details === 'string') return details;
  const isProblem = (d: unknown): d is { path: unknown; message: unknown } =>
    typeof d === 'object' && d !== null && 'path' in d && 'message' in d;
  if (Array.isArray(details) && details.every(isProblem)) {
    return details.map((d) => oneLine(`${String(d.path)}: ${String(d.message)}`)).join('\n');
  }
  return JSON.stringify(details);
}

/** The Cloud API's error object. */
export function cloudError(status: number, code: string, reason: string, details?: unknown) {
  return {
    id: code,
    kind: 'Error',
    href: `${CLOUD_PREFIX}/errors/${code}`,
    code: `IMAGE-BUILDER-COMPOSER-${code}`,
    reason,
    operation_id: '',
    ...(details === undefined ? {} : { details: detailsText(details) }),
    status,
  };
}

export async function cloudPlugin(app: FastifyInstance, opts: AppDeps & { prefix?: string }): Promise<void> {
  const { prefix: _prefix, ...deps } = opts; // passed on, the prefix would apply twice
  app.setErrorHandler(
    errorHandler({
      family: 'cloud',
      api: (err) => ({
        status: err.status,
        body: cloudError(err.status, err.code, err.message, err.details),
      }),
      weldr: (err) => ({ status: err.status, body: cloudError(err.status, err.id, err.message) }),
      http: (status, err) => ({
        status,
        body: cloudError(status, status >= 500 ? 'InternalServerError' : 'BadRequest', err.message),
      }),
    }),
  );
  await app.register(cloudComposeRoutes, deps);
  await app.register(cloudCatalogRoutes, deps);
}
