/**
 * Weldr `POST /compose`: a compose of a committed blueprint, through the compose service.
 *
 * `compose` (start) waits for the manifest, as osbuild-composer depsolves in the request: a package
 * apt cannot find is answered `DepsolveError` and no compose is kept (the wait's bound is described
 * in services/composes.ts; past it the answer is the build_id with a warning). A test compose
 * (`?test=1|2`) is checked the same way: its manifest is made, and its errors answered, before its
 * outcome is faked, as composer makes the manifest in test mode too.
 */

import { describeValue } from '@debian-forge/blueprint';
import { ComposerErrorCode, DEFAULT_DISTRO, getDistro } from '@debian-forge/composer';
import { isRedisUnavailable } from '@debian-forge/queue';
import type { Compose, Store } from '@debian-forge/store';
import type { FastifyRequest } from 'fastify';
import { type AppDeps, composeService } from '../deps.ts';
import { ApiError, ERROR_ANSWERS, WeldrError } from '../errors.ts';
import { bodyDepthError } from '../plugins/json-depth.ts';
import { ComposePlanError } from '../services/compose-errors.ts';
import type { ComposeRequest } from '../services/composes.ts';
import { doc } from './openapi.ts';
import { checkName, queryValue, requestBody } from './params.ts';
import type { WeldrRouter } from './router.ts';

/**
 * Maps the compose service's refusals of a start request to Weldr's ids and statuses, as
 * osbuild-composer's compose handler answers them: by the code's `weldr` answer in ERROR_ANSWERS
 * (any depsolve failure `DepsolveError` with 500, a job it cannot queue `ComposePushErrored`, also
 * while Redis is unreachable and nothing was stored, …). A refusal of the manifest step
 * (ComposePlanError) without one is `ManifestCreationFailed` (400) when the request is at fault,
 * else an internal fault (`InternalError`, 500); a refused request without one is `ComposeError`.
 */
function startError(err: unknown, imageType: string): never {
  const plan = err instanceof ComposePlanError;
  if (!isRedisUnavailable(err) && !plan && !(err instanceof ApiError && err.status === 400)) throw err;
  const { code, message } = err as { code: string; message: string };
  const weldr = ERROR_ANSWERS[code]?.weldr;
  if (weldr && code === ComposerErrorCode.ImageType) {
    throw new WeldrError(
      weldr.status,
      weldr.id,
      `Failed to get compose type "${imageType}": invalid image type: ${imageType}`,
    );
  }
  if (weldr) throw new WeldrError(weldr.status, weldr.id, message);
  if (!plan) throw new WeldrError(400, 'ComposeError', message);
  if (err.status === 400) {
    throw new WeldrError(400, 'ManifestCreationFailed', `failed to initialize osbuild manifest: ${message}`);
  }
  throw new WeldrError(500, 'InternalError', message);
}

/**
 * The distro and architecture a blueprint names (or the defaults), checked before its image type
 * as composer checks them: `DistroError` "Unknown distribution: D for arch A". Returns the
 * architecture the compose is for.
 */
function blueprintArch(blueprint: Record<string, unknown>): string {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const distro = text(blueprint.distro) ?? DEFAULT_DISTRO;
  const arch = text(blueprint.architecture) ?? 'x86_64';
  if (!getDistro(distro)?.arches[arch]) {
    throw new WeldrError(400, 'DistroError', `Unknown distribution: ${distro} for arch ${arch}`);
  }
  return arch;
}

/**
 * `?test=1` (a compose that fails once its manifest is made) or `?test=2` (one that finishes with a
 * fake image), or
 * none. composer starts a real compose for any other value; a client that asked for a test compose
 * never wants a real one, so other values are refused as `?format=` values are (`InvalidChars`).
 */
function testParam(request: FastifyRequest): '' | '1' | '2' {
  const test = queryValue(request, 'test');
  if (test === '' || test === '1' || test === '2') return test;
  throw new WeldrError(
    400,
    'InvalidChars',
    `invalid test parameter: ${JSON.stringify(test)} (1 fakes a failed compose, 2 a finished one)`,
  );
}

interface StartBody {
  blueprint_name?: unknown;
  compose_type?: unknown;
  branch?: unknown;
  size?: unknown;
  ostree?: { ref?: unknown; parent?: unknown; url?: unknown } | null;
  upload?: unknown;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new WeldrError(400, 'OSTreeOptionsError', `${what} must be a string`);
  return value;
}

/**
 * The body of a start request, checked in composer's order: JSON by its media type (with no
 * parameters), the `?test=` value, then an object.
 */
function readStartBody(request: FastifyRequest): { body: StartBody; test: '' | '1' | '2' } {
  const { mediaType, text } = requestBody(request);
  if (mediaType !== 'application/json' || (request.headers['content-type'] ?? '').includes(';')) {
    throw new WeldrError(400, 'MissingPost', 'blueprint must be json');
  }
  // Refused as a bad request, not as composer's 404 for text that is no JSON at all: a deep
  // body is JSON, just more than this service reads (see plugins/json-depth.ts).
  const tooDeep = bodyDepthError(text);
  if (tooDeep !== undefined) throw new WeldrError(400, 'HTTPError', tooDeep.message);
  const test = testParam(request);
  let body: StartBody;
  try {
    body = JSON.parse(text) as StartBody;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  } catch {
    throw new WeldrError(404, 'HTTPError', 'Not Found'); // composer answers a bad body so
  }
  return { body, test };
}

/**
 * What the compose service is asked to make of a start body: the committed blueprint it names
 * (`UnknownBlueprint` without one), for the blueprint's architecture, with the image type, the size
 * and the OSTree options given.
 */
function composeRequest(store: Store, body: StartBody): ComposeRequest {
  // An empty or missing name breaks the name rule, as in composer.
  const name = checkName(typeof body.blueprint_name === 'string' ? body.blueprint_name : '');
  const stored = store.blueprints.get(name);
  if (!stored) throw new WeldrError(400, 'UnknownBlueprint', `Unknown blueprint name: ${name}`);
  const arch = blueprintArch(stored.blueprint);
  const imageType = typeof body.compose_type === 'string' ? body.compose_type : '';
  // composer's uint64: a number, never `true` or "8 GiB"; the service checks its range.
  if (body.size !== undefined && body.size !== null && typeof body.size !== 'number') {
    throw new WeldrError(
      400,
      'ComposeError',
      `size must be a whole number of bytes, got ${describeValue(body.size)}`,
    );
  }
  const size = body.size ?? 0;
  const ostree = {
    ref: optionalString(body.ostree?.ref, 'ostree.ref'),
    parent: optionalString(body.ostree?.parent, 'ostree.parent'),
    url: optionalString(body.ostree?.url, 'ostree.url'),
  };
  const given = Object.entries(ostree).filter(([, v]) => v !== undefined);
  return {
    origin: { api: 'weldr' },
    blueprint: stored.blueprint,
    imageType,
    arch,
    size,
    ...(given.length > 0 ? { ostree: Object.fromEntries(given) } : {}),
  };
}

/** Starts the compose (a faked one for `?test=`), its refusals answered in Weldr's words (startError). */
async function submit(deps: AppDeps, req: ComposeRequest, test: '' | '1' | '2'): Promise<Compose> {
  const service = composeService(deps);
  try {
    return test === '1'
      ? await service.submitFake(req, 'fail')
      : test === '2'
        ? await service.submitFake(req, 'finish')
        : await service.submit(req, { waitForPlan: true });
  } catch (err) {
    startError(err, req.imageType);
  }
}

/** `POST /compose`: the build id, with warnings for a manifest still being made and an upload asked for. */
export function startRoute(router: WeldrRouter, deps: AppDeps): void {
  router.route({
    method: 'POST',
    path: '/compose',
    schema: doc(
      'Start a compose of a committed blueprint once its manifest is made (?test=1 then fails, ?test=2 finishes)',
      '/compose',
    ),
    handler: async (request) => {
      const { body, test } = readStartBody(request);
      const compose = await submit(deps, composeRequest(deps.store, body), test);
      const warnings: string[] = [];
      if (compose.state === 'PENDING') {
        warnings.push(
          'the manifest is still being made (apt is slow): an error in it will end the compose FAILED',
        );
      }
      if (body.upload !== undefined && body.upload !== null) {
        warnings.push('uploads to clouds are not supported: the image stays on this server (compose/image)');
      }
      return { build_id: compose.uuid, status: true, warnings };
    },
  });
}
