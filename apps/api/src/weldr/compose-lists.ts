/**
 * Weldr's compose lists: compose/queue, compose/finished, compose/failed and compose/status/*,
 * each compose as a ComposeEntry. The Cloud API's composes are left out (WELDR_LISTS).
 */
import {
  type Compose,
  type ComposeApi,
  type ComposeState,
  type Store,
  statesOfWeldrStatus,
  type WeldrStatus,
} from '@debian-forge/store';
import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { WeldrError } from '../errors.ts';
import { composeEntry } from './compose-entry.ts';
import { doc } from './openapi.ts';
import { checkName, isV1, queryValue, UUID_RE } from './params.ts';
import type { WeldrRouter } from './router.ts';

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

/** compose/queue (waiting and running), compose/finished and compose/failed. */
export function listRoutes(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
}

/** compose/status/*: composes by id (or all), filtered by blueprint, status and type, sorted by id. */
export function composeStatusRoute(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
}
