/**
 * Weldr compose/* (start, types, queue, finished, failed, status, info, cancel, delete, log, logs,
 * metadata, results, image) and the v1 upload routes (501), over the compose service. Start is in
 * compose-start.ts, the lists and compose/status in compose-lists.ts, what an ended compose serves
 * in compose-downloads.ts; the rest is here.
 *
 * States as Weldr clients see them: PENDING and QUEUED are WAITING, BUILDING is RUNNING, COMPLETED
 * is FINISHED, FAILED and CANCELLED are FAILED (store's weldrStatus).
 */

import { listImageTypes } from '@debian-forge/composer';
import { type Compose, weldrStatus } from '@debian-forge/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppDeps, composeService, packageService } from '../deps.ts';
import { ApiError, WeldrError } from '../errors.ts';
import { downloadRoutes } from './compose-downloads.ts';
import { composeEntry } from './compose-entry.ts';
import { composeStatusRoute, listRoutes } from './compose-lists.ts';
import { startRoute } from './compose-start.ts';
import { doc } from './openapi.ts';
import { builtPkgSpec, composeBuilt, composePackages, pkgSpec } from './packages-view.ts';
import { composeParam, isV1, queryTarget, UUID_RE } from './params.ts';
import type { WeldrRouter } from './router.ts';

/** The compose routes, in this order (the OpenAPI document lists them as registered). */
export function composeRoutes(router: WeldrRouter, deps: AppDeps): void {
  startRoute(router, deps);
  typesRoute(router, deps);
  listRoutes(router, deps);
  composeStatusRoute(router, deps);
  infoRoute(router, deps);
  cancelRoute(router, deps);
  deleteRoute(router, deps);
  downloadRoutes(router, deps);
  uploadRoutes(router);
}

/** compose/types: the image types of a distro and architecture (`?distro=`, `?arch=`). */
function typesRoute(router: WeldrRouter, deps: AppDeps): void {
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

/** compose/info: a compose's blueprint, packages (PkgSpecs), type and status. */
function infoRoute(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
        // The archive's packages and those built from the blueprint's sources, by name.
        deps: {
          packages: [
            ...composePackages(compose).map(pkgSpec),
            ...composeBuilt(compose).map(builtPkgSpec),
          ].sort((a, b) => a.name.localeCompare(b.name)),
        },
        compose_type: compose.imageType,
        queue_status: entry.queue_status,
        image_size: entry.image_size,
        ...(isV1(request) ? { uploads: [] } : {}),
      };
    },
  });
}

/** compose/cancel: a compose that has not ended is cancelled (`BuildInWrongState` otherwise). */
function cancelRoute(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
}

/** compose/delete: ended composes are deleted, each refusal an entry of `errors` (always 200). */
function deleteRoute(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
}

/** The v1 routes of uploads to clouds, which this service does not do: 501 each. */
function uploadRoutes(router: WeldrRouter): void {
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
