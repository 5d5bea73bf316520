/**
 * `PUT /api/forge/v1/composes/{uuid}/artifact?filename=<name>`: a worker uploads the image of a
 * BUILDING compose. The name is checked by the one name checker (one portable path component),
 * and the body is streamed to a hidden temporary file `<artifactsDir>/<uuid>/.<random>.part`
 * (never buffered, not bound by bodyLimit) while its sha256 is computed; on a match with
 * `X-Forge-Sha256` (and `Content-Length`, when given) the file is renamed and indexed → 201
 * `{filename,size,sha256}`.
 *
 * Whose fault a failure is decides the answer. The client's (a body broken off, a checksum or size
 * that does not match) → 400 `FORGE_ERR_UPLOAD` (`FORGE_ERR_CHECKSUM`, `FORGE_ERR_SIZE`); the
 * compose stays BUILDING, so the worker may send it again. The server's (the artifacts directory
 * full, unwritable, failing; see services/artifacts.ts) → 507 or 500, and the compose ends FAILED
 * with the reason at once. Either way the `.part` file is removed. When the server fails while the
 * body still arrives, the rest of the body is read and dropped rather than the connection cut, so
 * the worker gets the answer.
 *
 * Registered as a plugin of its own inside the Forge API's scope: its content-type parser takes
 * every body as the raw request stream, which must not apply to the other Forge routes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getImageType } from '@debian-forge/composer';
import { joinInside, nameError } from '@debian-forge/manifest';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { ApiError } from '../errors.ts';
import { composeArtifactsDir, isStorageError } from '../services/artifacts.ts';
import { ComposeErrorCode, failStoring, moveCompose, mustGetCompose } from '../services/composes.ts';

export const ArtifactErrorCode = {
  Checksum: 'FORGE_ERR_CHECKSUM',
  Size: 'FORGE_ERR_SIZE',
  BadUpload: 'FORGE_ERR_UPLOAD',
} as const;

const uploaded = z.object({ filename: z.string(), size: z.number().int(), sha256: z.string() });

export async function artifactRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  // The body stays unread: the handler streams request.raw to disk.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.route({
    method: 'PUT',
    url: '/composes/:uuid/artifact',
    schema: {
      tags: ['forge'],
      summary: "Upload a BUILDING compose's artifact (workers)",
      description:
        'The body is the file, with `X-Forge-Sha256`. 400 when the body is broken off or its size or sha256 does not match (the compose stays BUILDING); 409 when the compose is not BUILDING; 507 `FORGE_ERR_ARTIFACTS_FULL` when the server has no room for it, 500 `FORGE_ERR_ARTIFACTS_UNWRITABLE` or `FORGE_ERR_ARTIFACTS_STORAGE` when its artifacts directory cannot be written: then the compose ends FAILED with that reason.',
      params: z.object({ uuid: z.string() }),
      querystring: z.object({
        filename: z
          .string()
          .describe("one name of letters, digits, '.', '_' and '-', starting with a letter or digit"),
      }),
      headers: z.object({
        'x-forge-sha256': z.string().describe('sha256 of the body, 64 hex digits'),
        'content-length': z.string().optional(),
      }),
      response: { 201: uploaded },
    },
    handler: async (request, reply) => {
      const { uuid: id } = request.params as { uuid: string };
      const { filename } = request.query as { filename: string };
      const headers = request.headers as Record<string, string | undefined>;
      const want = (headers['x-forge-sha256'] ?? '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(want)) {
        throw new ApiError(400, ArtifactErrorCode.BadUpload, 'X-Forge-Sha256 must be 64 hex digits');
      }
      const unsafe = nameError(filename, 'file name', { portable: true });
      if (unsafe) throw new ApiError(400, ArtifactErrorCode.BadUpload, unsafe);
      const lengthHeader = headers['content-length'];
      const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
      let compose = mustGetCompose(deps.store, id);
      const { uuid } = compose; // the stored form names its directory, whatever case was asked
      if (compose.state === 'QUEUED' && compose.jobId) {
        // The worker can be quicker than the lifecycle's handling of its `active` event.
        const job = await deps.queue.getJob(compose.jobId);
        if (job?.status === 'active') {
          compose = moveCompose(deps, uuid, 'BUILDING', job.worker ? { workerId: job.worker } : {});
        }
      }
      if (compose.state !== 'BUILDING') {
        throw new ApiError(
          409,
          ComposeErrorCode.WrongState,
          `compose ${uuid} is ${compose.state}, not BUILDING: no upload`,
        );
      }
      const dir = join(deps.config.artifactsDir, compose.uuid);
      // Its own name, which no portable file name can be (they start with a letter or digit).
      const part = join(dir, `.${randomUUID()}.part`);
      const hash = createHash('sha256');
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, next) {
          hash.update(chunk);
          size += chunk.length;
          next(null, chunk);
        },
      });
      let body: PassThrough | undefined;
      /** Removes what was written, drops the rest of the body, fails the compose: the server's fault. */
      const serverFault = async (err: unknown, stored?: string): Promise<ApiError> => {
        if (body) {
          request.raw.unpipe(body);
          body.destroy();
        }
        request.raw.resume();
        const fault = await failStoring(
          deps,
          compose.uuid,
          { filename, ...(length === undefined ? {} : { size: length }), written: [part, stored] },
          err,
          // The database is on the full file system too: the lifecycle fails the compose once the
          // worker has failed its job.
          (e) => request.log.error({ err: e, compose: uuid }, 'cannot fail the compose'),
        );
        request.log.error({ err, compose: uuid }, fault.message);
        return fault;
      };
      try {
        await composeArtifactsDir(deps.config.artifactsDir, compose.uuid);
      } catch (err) {
        throw await serverFault(err);
      }
      // No link in the compose's directory may lead the rename out of it.
      const final = joinInside(dir, filename, { what: 'file name' });
      body = detachedBody(request.raw);
      try {
        await pipeline(body, count, createWriteStream(part, { flags: 'wx', mode: 0o600 }));
      } catch (err) {
        if (isStorageError(err)) throw await serverFault(err);
        await rm(part, { force: true }).catch(() => {});
        throw new ApiError(400, ArtifactErrorCode.BadUpload, `upload broken off: ${(err as Error).message}`);
      }
      const sha256 = hash.digest('hex');
      if (length !== undefined && size !== length) {
        await rm(part, { force: true });
        throw new ApiError(400, ArtifactErrorCode.Size, `got ${size} bytes, Content-Length said ${length}`);
      }
      if (sha256 !== want) {
        await rm(part, { force: true });
        throw new ApiError(400, ArtifactErrorCode.Checksum, `the body's sha256 is ${sha256}, not ${want}`, {
          expected: want,
          actual: sha256,
        });
      }
      try {
        await rename(part, final);
        deps.store.transaction(() => {
          deps.store.artifacts.delete(uuid, filename); // a retried upload replaces the first
          deps.store.artifacts.add({
            uuid,
            filename,
            path: final,
            size,
            sha256,
            mimeType: getImageType(compose.imageType)?.mimeType ?? 'application/octet-stream',
          });
        });
      } catch (err) {
        throw await serverFault(err, final);
      }
      return reply.code(201).send({ filename, size, sha256 });
    },
  });
}

/**
 * The request body as a stream of its own: when writing it out fails, `pipeline` destroys this
 * one, not the request, whose connection must stay up to carry the answer. A client that hangs up
 * before the end of the body fails it ("broken off").
 */
function detachedBody(raw: IncomingMessage): PassThrough {
  const body = new PassThrough();
  raw.pipe(body);
  raw.once('error', (err: Error) => body.destroy(err));
  raw.once('close', () => {
    if (!raw.complete) body.destroy(new Error('the client closed the connection before the end of the body'));
  });
  return body;
}
