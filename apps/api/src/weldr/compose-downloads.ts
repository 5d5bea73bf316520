/**
 * What Weldr serves of a compose that has ended: compose/log (the end of its log as text),
 * compose/logs, compose/metadata and compose/results (tars of the log, the manifest, and both with
 * the image), and compose/image (the image, with HTTP Range requests).
 */
import { type Artifact, type Compose, type Store, weldrStatus } from '@debian-forge/store';
import type { FastifyReply } from 'fastify';
import { ImageMissingError, imageFile, imageOf, sendImage } from '../compose-image.ts';
import type { AppDeps } from '../deps.ts';
import { WeldrError } from '../errors.ts';
import { type TarEntry, tarSize, tarStream } from '../tar.ts';
import { seconds } from './compose-entry.ts';
import { doc } from './openapi.ts';
import { composeParam, queryValue } from './params.ts';
import { errorBody, sendText } from './reply.ts';
import type { WeldrRouter } from './router.ts';

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

/** compose/log, compose/logs, compose/metadata, compose/results and compose/image, in that order. */
export function downloadRoutes(router: WeldrRouter, deps: AppDeps): void {
  logRoute(router, deps.store);
  tarRoutes(router, deps);
  imageRoute(router, deps);
}

/** compose/log: the end of a compose's log as text (`?size=` KiB), or why there is none yet. */
function logRoute(router: WeldrRouter, store: Store): void {
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
}

/** compose/logs, compose/metadata and compose/results: tars of an ended compose. */
function tarRoutes(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
}

/** compose/image: the image of a finished compose (Range requests answered). */
function imageRoute(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
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
}
