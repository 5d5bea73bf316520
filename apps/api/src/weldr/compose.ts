/**
 * Weldr compose/* (start, types, queue, finished, failed, status, info, cancel, delete, log, logs,
 * metadata, results, image) and the v1 upload routes (501), over the compose service.
 *
 * States as Weldr clients see them: PENDING and QUEUED are WAITING, BUILDING is RUNNING, COMPLETED
 * is FINISHED, FAILED and CANCELLED are FAILED (store's weldrStatus).
 *
 * `compose` (start) waits for the manifest, as osbuild-composer depsolves in the request: a package
 * apt cannot find is answered `DepsolveError` and no compose is kept (the wait's bound is described
 * in services/composes.ts; past it the answer is the build_id with a warning). A test compose
 * (`?test=1|2`) is checked the same way: its manifest is made, and its errors answered, before its
 * outcome is faked, as composer makes the manifest in test mode too.
 */

import { describeValue } from '@debian-forge/blueprint';
import { ComposerErrorCode, DEFAULT_DISTRO, getDistro, listImageTypes } from '@debian-forge/composer';
import { isRedisUnavailable } from '@debian-forge/queue';
import {
  type Artifact,
  type Compose,
  type ComposeApi,
  type ComposeState,
  type Store,
  statesOfWeldrStatus,
  type WeldrStatus,
  weldrStatus,
} from '@debian-forge/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ImageMissingError, imageFile, imageOf, sendImage } from '../compose-image.ts';
import { type AppDeps, composeService, packageService } from '../deps.ts';
import { ApiError, ERROR_ANSWERS, WeldrError } from '../errors.ts';
import { bodyDepthError } from '../plugins/json-depth.ts';
import { ComposePlanError, type ComposeRequest } from '../services/composes.ts';
import { type TarEntry, tarSize, tarStream } from '../tar.ts';
import { doc } from './openapi.ts';
import { composePackages, pkgSpec } from './packages-view.ts';
import { checkName, queryTarget, queryValue, requestBody } from './params.ts';
import { errorBody, sendText } from './reply.ts';
import type { WeldrRouter } from './router.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The APIs whose composes Weldr lists: all but the Cloud API's, which composer-cli lists from the
 * Cloud API itself (as osbuild-composer's Weldr store never holds them), so none is listed twice.
 */
const WELDR_LISTS: readonly (ComposeApi | null)[] = ['weldr', 'forge', null];

/** Every compose Weldr lists (WELDR_LISTS) in `states` (all without), oldest first. */
export function allComposes(store: Store, states?: readonly ComposeState[]): Compose[] {
  const filter = { apis: WELDR_LISTS, ...(states ? { states } : {}) };
  const { total } = store.composes.list({ ...filter, limit: 0 });
  return store.composes.list({ ...filter, limit: total }).items.reverse();
}

/** Seconds since the epoch, with fractions, of an ISO time. */
function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** Weldr's ComposeEntry. */
export function composeEntry(store: Store, compose: Compose, v1: boolean) {
  const status = weldrStatus(compose.state);
  const image = status === 'FINISHED' ? imageOf(store, compose) : undefined;
  return {
    id: compose.uuid,
    blueprint: compose.blueprintName,
    version: compose.blueprintVersion,
    compose_type: compose.imageType,
    image_size: status === 'FINISHED' ? compose.size || (image?.size ?? 0) : 0,
    queue_status: status,
    job_created: seconds(compose.createdAt),
    ...(compose.startedAt ? { job_started: seconds(compose.startedAt) } : {}),
    ...(compose.finishedAt ? { job_finished: seconds(compose.finishedAt) } : {}),
    ...(v1 ? { uploads: [] } : {}),
  };
}

/**
 * The blueprint compose/info shows for a compose made from a raw manifest (it has none): its name
 * and version, with the empty lists composer's blueprints always have (the Python composer-cli
 * reads `packages` and `modules`).
 */
function noBlueprint(compose: Compose) {
  return {
    name: compose.blueprintName,
    version: compose.blueprintVersion,
    packages: [],
    modules: [],
    groups: [],
  };
}

function isV1(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/v1/');
}

/**
 * The compose of a path parameter: `UnknownUUID` (400) for a malformed id ("X is not a valid build
 * uuid") or an unknown one ("Compose X doesn't exist"), composer's texts; compose/info answers an
 * unknown id with the first text, as composer does (`unknown`).
 */
function composeParam(store: Store, uuid: string, unknown = `Compose ${uuid} doesn't exist`): Compose {
  if (!UUID_RE.test(uuid)) throw new WeldrError(400, 'UnknownUUID', `${uuid} is not a valid build uuid`);
  const compose = store.composes.get(uuid);
  if (!compose) throw new WeldrError(400, 'UnknownUUID', unknown);
  return compose;
}

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

/** The tar entries of a compose: metadata (UUID.json), the log, the image. */
function manifestEntry(compose: Compose): TarEntry {
  return { name: `${compose.uuid}.json`, data: Buffer.from(JSON.stringify(compose.manifest ?? {}, null, 2)) };
}

function logText(store: Store, compose: Compose): string {
  const lines = store.composes.log.read(compose.uuid).map((l) => l.line);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function logEntry(store: Store, compose: Compose): TarEntry {
  return { name: 'logs/osbuild.log', data: Buffer.from(logText(store, compose)) };
}

/** A tar answer, typed `application/x-tar` as composer types its logs, metadata and results tars. */
function sendTar(reply: FastifyReply, filename: string, entries: TarEntry[], compose: Compose) {
  const mtime = seconds(compose.finishedAt ?? compose.createdAt);
  return reply
    .header('content-type', 'application/x-tar')
    .header('content-disposition', `attachment; filename=${filename}`)
    .header('content-length', tarSize(entries))
    .send(tarStream(entries, mtime));
}

/**
 * Refuses a compose that has not ended (`BuildInWrongState`), in composer's words: compose/logs
 * says "Build X not in FINISHED or FAILED state.", compose/metadata and compose/results "Build X is
 * in wrong state: S" (`logs`).
 */
function finishedOrFailed(compose: Compose, logs = false): void {
  const status = weldrStatus(compose.state);
  if (status === 'FINISHED' || status === 'FAILED') return;
  const msg = logs
    ? `Build ${compose.uuid} not in FINISHED or FAILED state.`
    : `Build ${compose.uuid} is in wrong state: ${status}`;
  throw new WeldrError(400, 'BuildInWrongState', msg);
}

/**
 * Runs `use` on the image of a finished compose. An image it cannot open is composer's 400
 * `InternalServerError` "Error accessing image file for compose X: …": the Python composer-cli
 * reads only a 400 as an error and saves any other answer as the file.
 */
async function withImage<T>(
  deps: AppDeps,
  compose: Compose,
  use: (image: Artifact) => Promise<T>,
): Promise<T> {
  const fault = (reason: string) =>
    new WeldrError(
      400,
      'InternalServerError',
      `Error accessing image file for compose ${compose.uuid}: ${reason}`,
    );
  const image = imageOf(deps.store, compose);
  if (!image) throw fault(`the image of ${compose.uuid} is missing`);
  try {
    return await use(image);
  } catch (err) {
    if (err instanceof ImageMissingError) throw fault(err.message);
    throw err;
  }
}

export function composeRoutes(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;

  router.route({
    method: 'POST',
    path: '/compose',
    schema: doc(
      'Start a compose of a committed blueprint once its manifest is made (?test=1 then fails, ?test=2 finishes)',
      '/compose',
    ),
    handler: async (request) => {
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
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw new Error('not an object');
      } catch {
        throw new WeldrError(404, 'HTTPError', 'Not Found'); // composer answers a bad body so
      }
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
      const req: ComposeRequest = {
        origin: { api: 'weldr' },
        blueprint: stored.blueprint,
        imageType,
        arch,
        size,
        ...(given.length > 0 ? { ostree: Object.fromEntries(given) } : {}),
      };
      const service = composeService(deps);
      let compose: Compose;
      try {
        compose =
          test === '1'
            ? await service.submitFake(req, 'fail')
            : test === '2'
              ? await service.submitFake(req, 'finish')
              : await service.submit(req, { waitForPlan: true });
      } catch (err) {
        startError(err, imageType);
      }
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

  router.route({
    method: 'GET',
    path: '/compose/types',
    schema: doc('The image types of a distro and architecture', '/compose/types'),
    handler: async (request) => {
      const { distroName, arch, target } = queryTarget(request, packageService(deps));
      if (!target) throw new WeldrError(400, 'DistroError', `Unknown distribution: ${distroName}`);
      return { types: listImageTypes(target.distro, arch).map((t) => ({ name: t.name, enabled: true })) };
    },
  });

  const list = (statuses: WeldrStatus[], request: FastifyRequest) =>
    allComposes(store, statuses.flatMap(statesOfWeldrStatus)).map((c) =>
      composeEntry(store, c, isV1(request)),
    );

  router.route({
    method: 'GET',
    path: '/compose/queue',
    schema: doc('Waiting and running composes', '/compose/queue'),
    handler: async (request) => ({ new: list(['WAITING'], request), run: list(['RUNNING'], request) }),
  });
  router.route({
    method: 'GET',
    path: '/compose/finished',
    schema: doc('Finished composes', '/compose/finished'),
    handler: async (request) => ({ finished: list(['FINISHED'], request) }),
  });
  router.route({
    method: 'GET',
    path: '/compose/failed',
    schema: doc('Failed composes', '/compose/failed'),
    handler: async (request) => ({ failed: list(['FAILED'], request) }),
  });

  router.route({
    method: 'GET',
    path: '/compose/status/:uuids',
    schema: doc(
      'Status of composes (comma list or *), filtered by blueprint, status and type',
      '/compose/status/:uuids',
    ),
    handler: async (request) => {
      const { uuids } = request.params as { uuids: string };
      let composes: Compose[];
      if (uuids === '*') composes = allComposes(store);
      else {
        const ids = uuids.split(',').filter((u) => u !== '');
        for (const id of ids) {
          if (!UUID_RE.test(id)) throw new WeldrError(400, 'UnknownUUID', `${id} is not a valid build uuid`);
        }
        composes = ids.flatMap((id) => {
          const c = store.composes.get(id);
          return c ? [c] : [];
        });
      }
      const blueprint = queryValue(request, 'blueprint');
      if (blueprint !== '') checkName(blueprint); // composer holds the filter to the name rule too
      const status = queryValue(request, 'status');
      const type = queryValue(request, 'type');
      const entries = composes
        .map((c) => composeEntry(store, c, isV1(request)))
        .filter(
          (e) =>
            (blueprint === '' || e.blueprint === blueprint) &&
            (status === '' || e.queue_status === status) &&
            (type === '' || e.compose_type === type),
        )
        .sort((a, b) => a.id.localeCompare(b.id));
      return { uuids: entries };
    },
  });

  router.route({
    method: 'GET',
    path: '/compose/info/:uuid',
    schema: doc('A compose: its blueprint, packages, type and status', '/compose/info/:uuid'),
    handler: async (request) => {
      const { uuid } = request.params as { uuid: string };
      const compose = composeParam(store, uuid, `${uuid} is not a valid build uuid`);
      const entry = composeEntry(store, compose, isV1(request));
      return {
        id: compose.uuid,
        config: '',
        blueprint: compose.blueprint ?? noBlueprint(compose),
        commit: '',
        deps: { packages: composePackages(compose).map(pkgSpec) },
        compose_type: compose.imageType,
        queue_status: entry.queue_status,
        image_size: entry.image_size,
        ...(isV1(request) ? { uploads: [] } : {}),
      };
    },
  });

  router.route({
    method: 'DELETE',
    path: '/compose/cancel/:uuid',
    schema: doc('Cancel a waiting or running compose', '/compose/cancel/:uuid'),
    handler: async (request) => {
      const { uuid } = request.params as { uuid: string };
      const compose = composeParam(store, uuid);
      const status = weldrStatus(compose.state);
      const wrong = () =>
        new WeldrError(400, 'BuildInWrongState', `Build ${uuid} is not in WAITING or RUNNING.`);
      if (status !== 'WAITING' && status !== 'RUNNING') throw wrong();
      try {
        await composeService(deps).cancel(compose.uuid);
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) throw wrong();
        throw err;
      }
      return { uuid: compose.uuid, status: true };
    },
  });

  router.route({
    method: 'DELETE',
    path: '/compose/delete/:uuids',
    schema: doc(
      'Delete finished or failed composes (always 200, with per-uuid errors)',
      '/compose/delete/:uuids',
    ),
    handler: async (request) => {
      const { uuids } = request.params as { uuids: string };
      const done: { uuid: string; status: true }[] = [];
      const errors: { id: string; msg: string }[] = [];
      for (const id of uuids.split(',').filter((u) => u !== '')) {
        if (!UUID_RE.test(id)) {
          errors.push({ id: 'UnknownUUID', msg: `${id} is not a valid uuid` });
          continue;
        }
        const compose = store.composes.get(id);
        if (!compose) {
          errors.push({ id: 'UnknownUUID', msg: `compose ${id} doesn't exist` });
          continue;
        }
        const status = weldrStatus(compose.state);
        if (status !== 'FINISHED' && status !== 'FAILED') {
          errors.push({ id: 'BuildInWrongState', msg: `Compose ${id} is not in FINISHED or FAILED.` });
          continue;
        }
        try {
          await composeService(deps).delete(compose.uuid);
          done.push({ uuid: compose.uuid, status: true });
        } catch (err) {
          errors.push({ id: 'ComposeError', msg: `${id}: ${(err as Error).message}` });
        }
      }
      return { uuids: done, errors };
    },
  });

  router.route({
    method: 'GET',
    path: '/compose/log/:uuid',
    schema: doc("The end of a compose's log (?size=KiB)", '/compose/log/:uuid'),
    handler: async (request, reply) => {
      const { uuid } = request.params as { uuid: string };
      const compose = composeParam(store, uuid);
      const status = weldrStatus(compose.state);
      if (status === 'WAITING') {
        // lorax answers this error with HTTP 200, and clients expect it
        return errorBody(400, 'BuildInWrongState', `Build ${uuid} has not started yet. No logs to view.`);
      }
      if (status === 'RUNNING') return sendText(reply, `Build ${uuid} is still running.\n`);
      const sizeParam = queryValue(request, 'size');
      let text = Buffer.from(logText(store, compose));
      if (sizeParam !== '') {
        if (!/^\d+$/.test(sizeParam))
          throw new WeldrError(400, 'BadRequest', `invalid value for 'size': ${sizeParam}`);
        const bytes = Number(sizeParam) * 1024;
        if (text.length > bytes) text = text.subarray(text.length - bytes);
      }
      return sendText(reply, text.toString());
    },
  });

  router.route({
    method: 'GET',
    path: '/compose/logs/:uuid',
    schema: doc("A compose's log as a tar (UUID-logs.tar with logs/osbuild.log)", '/compose/logs/:uuid'),
    handler: async (request, reply) => {
      const compose = composeParam(store, (request.params as { uuid: string }).uuid);
      finishedOrFailed(compose, true);
      return sendTar(reply, `${compose.uuid}-logs.tar`, [logEntry(store, compose)], compose);
    },
  });

  router.route({
    method: 'GET',
    path: '/compose/metadata/:uuid',
    schema: doc(
      "A compose's manifest as a tar (UUID-metadata.tar with UUID.json)",
      '/compose/metadata/:uuid',
    ),
    handler: async (request, reply) => {
      const compose = composeParam(store, (request.params as { uuid: string }).uuid);
      finishedOrFailed(compose);
      return sendTar(reply, `${compose.uuid}-metadata.tar`, [manifestEntry(compose)], compose);
    },
  });

  router.route({
    method: 'GET',
    path: '/compose/results/:uuid',
    schema: doc('Manifest, log and image of a compose as one tar (UUID.tar)', '/compose/results/:uuid'),
    handler: async (request, reply) => {
      const compose = composeParam(store, (request.params as { uuid: string }).uuid);
      finishedOrFailed(compose);
      const entries = [manifestEntry(compose), logEntry(store, compose)];
      if (weldrStatus(compose.state) === 'FINISHED') {
        entries.push(
          await withImage(deps, compose, async (image) => ({
            name: `${compose.uuid}-${image.filename}`,
            ...(await imageFile(deps.config.artifactsDir, compose, image)),
          })),
        );
      }
      return sendTar(reply, `${compose.uuid}.tar`, entries, compose);
    },
  });

  router.route({
    method: 'GET',
    path: '/compose/image/:uuid',
    schema: doc('The image of a finished compose (supports Range requests)', '/compose/image/:uuid'),
    handler: async (request, reply) => {
      const { uuid } = request.params as { uuid: string };
      const compose = composeParam(store, uuid);
      const status = weldrStatus(compose.state);
      if (status !== 'FINISHED') {
        throw new WeldrError(400, 'BuildInWrongState', `Build ${compose.uuid} is in wrong state: ${status}`);
      }
      return withImage(deps, compose, (image) =>
        sendImage(request, reply, deps.config.artifactsDir, compose, image),
      );
    },
  });

  const notImplemented = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(501).send();
  const uploads: ['GET' | 'POST' | 'DELETE', string][] = [
    ['POST', '/compose/uploads/schedule/:uuid'],
    ['GET', '/upload/info/:uuid'],
    ['GET', '/upload/log/:uuid'],
    ['POST', '/upload/reset/:uuid'],
    ['DELETE', '/upload/cancel/:uuid'],
    ['DELETE', '/upload/delete/:uuid'],
    ['GET', '/upload/providers'],
    ['POST', '/upload/providers/save'],
    ['DELETE', '/upload/providers/delete/:provider/:profile'],
  ];
  for (const [method, path] of uploads) {
    router.route({
      method,
      path,
      v1Only: true,
      schema: { ...doc('Uploads to clouds: not implemented (501)', path) },
      handler: notImplemented,
    });
  }
}
